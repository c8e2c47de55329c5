import type { AtelierError, Logger } from '@atelier/shared';
import type { SubmitClaim } from '@atelier/store';
import type { Job } from 'bullmq';

/**
 * What one run of a processor came to. Processors return steps only; the step runner turns
 * them into BullMQ control flow (`runtime/step-runner.ts`). A failure's kind is its error's
 * (`ProviderError.kind`, else `AtelierError.retryable`), never repeated on the step.
 */
export type Step<D, R> =
  /** Finished: settle (batch, callback) and complete with `result`. */
  | { type: 'complete'; result: R }
  /**
   * Not finished, nothing failed: save `record` and come back at `untilMs` as a delayed job
   * (the worker slot is freed; no attempt is consumed). `priority` overrides the job's.
   * `holdQueueUntilMs` holds the whole queue until then too (an outage window); `note` is a
   * failure that cost no attempt, kept in the attempt history (a maintenance answer).
   */
  | {
      type: 'wait';
      reason: WaitReason;
      untilMs: number;
      record: D;
      priority?: number;
      holdQueueUntilMs?: number;
      note?: AtelierError;
    }
  /**
   * This attempt failed; the error's kind says what comes next: `throttled` slows the queue
   * (no attempt used), `config` halts it (the job is kept), `terminal` ends the job, any other
   * kind is retried with backoff until the attempts run out. `record` is saved with it.
   */
  | { type: 'retry'; error: AtelierError; record?: D }
  /** The processor gives up on the job, whatever the error's kind: dead letter now. */
  | { type: 'fail'; error: AtelierError; record?: D }
  /**
   * A cancel (of the job or its batch) refused the job's submit (`StepContext.claimSubmit`):
   * the job ends unpaid — `cancelled`, neither completed with a result nor dead.
   */
  | { type: 'cancelled' };

/** `paused`: the job's batch is paused; it waits, parked, for the resume to release it. */
export type WaitReason = 'poll' | 'maintenance' | 'outage' | 'probe' | 'paused';

/** What a processor may read of its job; it writes only through `StepContext.save`. */
export type JobView<D> = Pick<Job<D>, 'id' | 'data' | 'priority' | 'attemptsMade' | 'opts'>;

export interface StepContext<D> {
  job: JobView<D>;
  signal: AbortSignal;
  logger: Logger;
  /**
   * Saves the job's record now, before the step ends: for what must be durable at once (a
   * drawing's taskId right after its submit). Goes through the runner's job writes.
   */
  save(record: D): Promise<void>;
  /**
   * Saves the record of a submit about to start (its intent) — only if nothing forbids the
   * submit, in the same lock-checked script: `cancelled` (the job or its batch was cancelled:
   * return a `cancelled` step) or `paused` (its batch is paused: wait, without an attempt).
   */
  claimSubmit(record: D): Promise<SubmitClaim>;
}

export interface StepProcessor<D, R> {
  run(context: StepContext<D>): Promise<Step<D, R>>;
}
