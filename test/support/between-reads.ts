import type { RedisClient } from '@atelier/store';

type SendCommand = RedisClient['sendCommand'];
type Command = Parameters<SendCommand>[0];

export interface BetweenReads {
  /** The command `action` ran next to (undefined: no command named the key). */
  readonly after: string | undefined;
  /** Puts the connection back as it was. */
  restore(): void;
}

/**
 * Makes a race certain: the first command `redis` sends that names `key` (or any of the keys
 * given) and gets an answer from
 * Redis (not an error: NOSCRIPT before a script is loaded does not count), then `action` runs
 * (finishing the job, say), and only then does the caller see the answer. A reader that needs
 * a second read to answer now reads a changed world; a reader that took one snapshot answers
 * from before `action`.
 */
export function betweenReads(
  redis: RedisClient,
  key: string | readonly string[],
  action: () => Promise<unknown>,
): BetweenReads {
  return hook(redis, key, action, async (send, run) => {
    const reply = await send();
    await run();
    return reply;
  });
}

/**
 * Like `betweenReads`, for reads sent together: `action` runs before the first command that
 * names `key` is sent, and that command and every one after it wait for it, in order (the
 * commands sent before it have been sent; the rest of a `MULTI` waits with it).
 */
export function beforeRead(
  redis: RedisClient,
  key: string,
  action: () => Promise<unknown>,
): BetweenReads {
  let gate: Promise<unknown> | undefined;
  let open = false;
  return hook(
    redis,
    key,
    action,
    async (send, run) => {
      gate = run().finally(() => {
        open = true;
      });
      await gate;
      return send();
    },
    (send) => (gate && !open ? gate.then(send, send) : send()),
  );
}

function hook(
  redis: RedisClient,
  key: string | readonly string[],
  action: () => Promise<unknown>,
  around: (send: () => Promise<unknown>, run: () => Promise<void>) => Promise<unknown>,
  other: (send: () => Promise<unknown>) => Promise<unknown> = (send) => send(),
): BetweenReads {
  const original = redis.sendCommand;
  const keys = new Set(typeof key === 'string' ? [key] : key);
  let after: string | undefined;
  const hooked = function (this: RedisClient, command: Command, ...rest: unknown[]) {
    const send = () =>
      (original as (...args: unknown[]) => Promise<unknown>).call(this, command, ...rest);
    if (after !== undefined || !command.args.some((arg) => keys.has(String(arg)))) {
      return other(send);
    }
    return around(send, async () => {
      if (after !== undefined) return;
      after = command.name;
      await action();
    });
  };
  redis.sendCommand = hooked as SendCommand;
  return {
    get after() {
      return after;
    },
    restore() {
      redis.sendCommand = original;
    },
  };
}
