import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { waitFor } from '../../../../test/support/wait-for.ts';

/** One EVAL/EVALSHA as MONITOR saw it, with the keys its script's commands named. */
export interface ScriptCall {
  command: 'eval' | 'evalsha';
  /** The SHA (EVALSHA) or the source (EVAL). */
  script: string;
  /** What the call declared in KEYS. */
  keys: string[];
  /** Arguments of the script's commands that name a key under the watched prefix. */
  touched: string[];
}

/**
 * Watches a Redis server (MONITOR) for script calls under one key prefix. Redis runs a script
 * atomically and shows its commands (source `lua`) right after the call, so each command
 * belongs to the script call before it.
 */
export class ScriptMonitor {
  readonly #monitor: Redis;
  readonly #prefix: string;
  readonly #marker: string;
  readonly #calls: ScriptCall[] = [];
  #current: ScriptCall | undefined;
  #sawMarker = false;

  private constructor(monitor: Redis, prefix: string) {
    this.#monitor = monitor;
    this.#prefix = `${prefix}:`;
    this.#marker = `${prefix}:monitor-end:${randomBytes(4).toString('hex')}`;
    monitor.on('monitor', (_time: string, args: string[], source: string) =>
      this.#observe(args, source),
    );
  }

  static async start(redis: Redis, prefix: string): Promise<ScriptMonitor> {
    return new ScriptMonitor(await redis.monitor(), prefix);
  }

  /** Waits until MONITOR has shown everything `redis` sent before, then stops watching. */
  async stop(redis: Redis): Promise<ScriptCall[]> {
    await redis.exists(this.#marker);
    await waitFor(() => this.#sawMarker, { what: 'MONITOR to catch up' });
    this.close();
    return this.#calls.filter(
      (call) => call.touched.length > 0 || call.keys.some((key) => this.#ours(key)),
    );
  }

  /** Stops watching (idempotent; for cleanup when a test fails before `stop`). */
  close(): void {
    this.#monitor.disconnect();
  }

  #observe(args: string[], source: string): void {
    if (source === 'lua') {
      const touched = args.slice(1).filter((arg) => this.#ours(arg));
      if (touched.length === 0) return;
      // A script command with no script call before it declared nothing.
      this.#current ??= this.#record({ command: 'eval', script: '?', keys: [], touched: [] });
      this.#current.touched.push(...touched);
      return;
    }
    this.#current = undefined;
    const command = args[0]?.toLowerCase();
    if (command === 'eval' || command === 'evalsha') {
      const count = Number(args[2]);
      this.#current = this.#record({
        command,
        script: args[1] ?? '',
        keys: args.slice(3, 3 + count),
        touched: [],
      });
    } else if (args.includes(this.#marker)) {
      this.#sawMarker = true;
    }
  }

  #record(call: ScriptCall): ScriptCall {
    this.#calls.push(call);
    return call;
  }

  #ours(arg: string): boolean {
    return arg.startsWith(this.#prefix);
  }
}

/** `script key` for every key a script's commands named without the call declaring it. */
export function undeclaredKeys(calls: ScriptCall[]): string[] {
  return calls.flatMap((call) =>
    call.touched
      .filter((key) => !call.keys.includes(key))
      .map((key) => `${call.script.trim().slice(0, 60)} ${key}`),
  );
}
