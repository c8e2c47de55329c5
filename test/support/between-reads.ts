import type { RedisClient } from '@atelier/store';

type SendCommand = RedisClient['sendCommand'];
type Command = Parameters<SendCommand>[0];

export interface BetweenReads {
  /** The command after whose answer `action` ran (undefined: no command named the key). */
  readonly after: string | undefined;
  /** Puts the connection back as it was. */
  restore(): void;
}

/**
 * Makes a race certain: the first command `redis` sends that names `key` and gets an answer from
 * Redis (not an error), then `action` runs (finishing the job, say), and only then does the caller see the
 * answer. A reader that needs a second read to answer now reads a changed world; a reader that
 * took one snapshot answers from before `action`.
 */
export function betweenReads(
  redis: RedisClient,
  key: string,
  action: () => Promise<unknown>,
): BetweenReads {
  const original = redis.sendCommand;
  let after: string | undefined;
  const hooked = function (this: RedisClient, command: Command, ...rest: unknown[]) {
    const sent = (original as (...args: unknown[]) => Promise<unknown>).call(
      this,
      command,
      ...rest,
    );
    if (after !== undefined || !command.args.some((arg) => String(arg) === key)) return sent;
    // The first answer (an error, such as NOSCRIPT before a script is loaded, does not count).
    return sent.then(async (reply) => {
      if (after === undefined) {
        after = command.name;
        await action();
      }
      return reply;
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
