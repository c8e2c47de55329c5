import type { AtelierError, Logger } from '@atelier/shared';
import type { Job } from 'bullmq';

/** What one run of a processor decided; the job runner turns it into BullMQ control flow. */
export type Step<D, R> =
  /** Finished: settle (batch, callback) and complete with `result`. */
  | { type: 'done'; result: R }
  /**
   * Not finished, nothing failed: save `data` and come back at `untilMs` as a delayed job
   * (the worker slot is freed; no attempt is consumed). `priority` overrides the job's.
   */
  | { type: 'wait'; untilMs: number; data: D; reason: WaitReason; priority?: number }
  /** A classified failure (`ProviderError`, or an `AtelierError` with `retryable`). */
  | { type: 'fail'; error: AtelierError; data?: D };

export type WaitReason = 'poll' | 'maintenance' | 'outage' | 'probe' | 'rate-limit';

export interface StepContext<D> {
  job: Job<D>;
  token: string;
  signal: AbortSignal;
  logger: Logger;
}

export type StepProcessor<D, R> = (context: StepContext<D>) => Promise<Step<D, R>>;
