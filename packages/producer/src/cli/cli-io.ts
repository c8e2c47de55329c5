import type { Env } from '@atelier/shared';
import type { CliEnvironment } from './cli-environment.ts';
import type { ProgressStream } from './progress-bar.ts';

/** What a command may touch: its output streams, the environment, and the library. */
export interface CliIo {
  stdout: ProgressStream;
  stderr: ProgressStream;
  env: Env;
  /** Connects to Redis (REDIS_URL or the stack file); the caller closes the producer. */
  open(): Promise<CliEnvironment>;
  /** Waits between polls (tests shorten it). */
  pollIntervalMs: number;
}

/** Exit codes: 0 ok, 1 failure, 2 usage. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export function printJson(out: ProgressStream, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
