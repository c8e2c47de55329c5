import {
  type AnyJobData,
  AtelierError,
  hasCode,
  type JobCancelled,
  jobTenant,
  type Logger,
  lazyChild,
} from '@atelier/shared';
import {
  type DeadLetterStore,
  isLockLost,
  type JobFence,
  LIMITER_MAX,
  type QueueHalt,
  type RecentErrors,
} from '@atelier/store';
import {
  DelayedError,
  type Job,
  type Queue,
  UnrecoverableError,
  WaitingError,
  Worker,
} from 'bullmq';
import type { JobEnding } from './job-writes.ts';
import { JobWrites } from './job-writes.ts';
import { lockLostSignal } from './lock-loss.ts';
import type { Step, StepProcessor } from './step.ts';
import { type Decision, decideStep, failureKind } from './step-decision.ts';

/** Drawing and CME jobs: their ends are settled, their attempts kept, their queue can halt. */
export interface JobBooks<D, R> {
  settlement: JobEnding<D, R>;
  /** Queue-wide pause after a throttling answer without its own hint. */
  throttleMs: number;
  /** Where a dead letter filed before a replay is removed (that filing is over). */
  deadLetters: DeadLetterStore;
  halt: QueueHalt;
  /** Where failure codes are recorded for the dashboard. */
  recentErrors: RecentErrors;
}

/** One run of a processor, as the runner saw it (metrics and the queue's own log lines). */
export interface StepRun<D, R> {
  job: Job<D>;
  logger: Logger;
  step: Step<D, R>;
  decision: Decision<D, R>;
  /** From the start of the run until the processor returned. */
  durationMs: number;
}

export interface StepRunnerOptions<D, R> {
  queue: Queue;
  logger: Logger;
  /** Where the runs' writes check their job's lock. */
  fence: JobFence;
  processor: StepProcessor<D, R>;
  /** Unset for callbacks: nothing to settle, no attempt history, no halt. */
  books?: JobBooks<D, R>;
  /** Bindings of each run's logger (default `{jobId, attempt}`). */
  logBindings?: (job: Job<D>) => Record<string, unknown>;
  /** Hears every run once its writes are made; must not throw. */
  report?: (run: StepRun<D, R>) => void;
}

/** Attempt records kept per job (newest). */
const MAX_HISTORY = 20;

/** A job whose dead-lettering failed part-way comes back this much later to finish it. */
const FINISH_SETTLING_MS = 1000;

/**
 * THE place where a processor's step becomes BullMQ control flow (`decideStep` decides, this
 * carries it out; every write goes through the run's `JobWrites`):
 * - complete → settle (batch, callback), complete
 * - delay → save the record + move to delayed in one script, `DelayedError` (slot freed, no
 *   attempt used); an outage window first holds the whole queue (`queue.rateLimit`)
 * - slow-queue → `queue.rateLimit`, `RateLimitError` (job back to wait, no attempt used)
 * - halt → pause the queue (`QueueHalt`), keep the job delayed
 * - retry → record the attempt, throw for BullMQ backoff
 * - dead → dead letter, `UnrecoverableError`
 * - cancelled → end unpaid (batch item), complete with the cancel (`JobCancelled`) as result
 * Unexpected exceptions count as retryable `INTERNAL` failures; a malformed payload never
 * crashes the worker; a cancelled run hands its job back untouched (`WaitingError`). A run
 * that lost its job's lock (a fenced write refused, or BullMQ failed to renew the lock) stops
 * without writing anything more: another worker has the job. A run that finds its job's end
 * already settled by an earlier run (a dead letter, a completion record) finishes that end.
 */
export class StepRunner<D, R> {
  readonly #o: StepRunnerOptions<D, R>;

  constructor(options: StepRunnerOptions<D, R>) {
    this.#o = options;
  }

  /** The BullMQ processor. */
  async run(job: Job<D>, token?: string, signal?: AbortSignal): Promise<R | JobCancelled> {
    const logger = lazyChild(this.#o.logger, this.#o.logBindings?.(job) ?? defaultBindings(job));
    try {
      return await this.#run(job, token, signal, logger);
    } catch (error) {
      if (!isLockLost(error)) throw error;
      logger.warn(
        { reason: error.message },
        "lost the job's lock: this run stops without writing (another worker has the job)",
      );
      throw new WaitingError('lock lost');
    }
  }

  async #run(
    job: Job<D>,
    token: string | undefined,
    signal: AbortSignal | undefined,
    logger: Logger,
  ): Promise<R | JobCancelled> {
    const started = performance.now();
    const { books } = this.#o;
    const writes = new JobWrites(job, token ?? '', this.#o.fence, books?.settlement);
    const settled = books ? await this.#settledBefore(job, books, writes) : undefined;
    if (settled && 'cancelled' in settled) {
      this.#o.report?.({
        job,
        logger,
        step: { type: 'cancelled' },
        decision: { action: 'cancelled' },
        durationMs: 0,
      });
      return settled.cancelled;
    }
    if (settled) {
      const step: Step<D, R> = { type: 'complete', result: settled.result };
      const decision: Decision<D, R> = { action: 'complete', result: settled.result };
      this.#o.report?.({ job, logger, step, decision, durationMs: 0 });
      return settled.result;
    }

    let step: Step<D, R>;
    try {
      step = await this.#o.processor.run({
        job,
        signal: signal ?? new AbortController().signal,
        logger,
        save: (record) => writes.save(record),
        claimSubmit: (record) => writes.claimSubmit(record),
      });
    } catch (error) {
      if (isLockLost(error)) throw error;
      const lost = lockLostSignal(signal, job.id ?? '');
      if (lost) throw lost;
      if (signal?.aborted) {
        // Cancelled (shutdown past its grace period): hand the job back untouched; no attempt used.
        logger.warn(
          { reason: String(signal.reason ?? 'aborted') },
          'job cancelled: handing it back to the queue',
        );
        await writes.handBack();
        throw new WaitingError('handed back');
      }
      logger.error({ err: error }, 'processor failed unexpectedly');
      step = { type: 'retry', error: toAtelierError(error) };
    }
    const durationMs = Math.round(performance.now() - started);

    const decision = decideStep(
      step,
      {
        record: job.data,
        attemptsMade: job.attemptsMade,
        maxAttempts: job.opts.attempts ?? 1,
        now: Date.now(),
      },
      books
        ? { maxHistory: MAX_HISTORY, queueWide: { throttleMs: books.throttleMs } }
        : { maxHistory: 0 },
    );
    if (step.type === 'retry' || step.type === 'fail') {
      await books?.recentErrors
        .record({
          at: Date.now(),
          queue: this.#o.queue.name,
          jobId: job.id ?? '',
          code: step.error.code,
          kind: failureKind(step.error),
        })
        .catch((err) => logger.warn({ err }, 'could not record the error code'));
    }
    return this.#carryOut(decision, writes, { job, logger, step, decision, durationMs });
  }

  async #carryOut(
    decision: Decision<D, R>,
    writes: JobWrites<D, R>,
    run: StepRun<D, R>,
  ): Promise<R | JobCancelled> {
    const { queue } = this.#o;
    switch (decision.action) {
      case 'complete':
        await writes.completed(decision.result);
        this.#o.report?.(run);
        return decision.result;
      case 'delay':
        if (decision.holdQueueForMs !== undefined) await queue.rateLimit(decision.holdQueueForMs);
        await writes.delay(decision.untilMs, decision.record, decision.priority);
        this.#o.report?.(run);
        throw new DelayedError(
          `waiting (${decision.reason}) until ${new Date(decision.untilMs).toISOString()}`,
        );
      case 'slow-queue':
        // One pause per storm: answers that arrive during a pause do not push its end further out.
        if ((await queue.getRateLimitTtl(LIMITER_MAX)) <= 0) await queue.rateLimit(decision.forMs);
        await writes.save(decision.record);
        this.#o.report?.(run);
        throw Worker.RateLimitError();
      case 'halt':
        await this.#o.books?.halt.halt(decision.error);
        await writes.delay(decision.untilMs, decision.record);
        this.#o.report?.(run);
        throw new DelayedError('queue halted');
      case 'retry': {
        const { error } = decision;
        await writes.save(decision.record);
        this.#o.report?.(run);
        throw new AtelierError(failedReason(error), {
          code: error.code,
          retryable: true,
          ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
        });
      }
      case 'dead':
        await this.#dead(decision, writes, run);
        this.#o.report?.(run);
        throw new UnrecoverableError(failedReason(decision.error));
      case 'cancelled': {
        const outcome = await writes.cancelled();
        this.#o.report?.(run);
        return outcome;
      }
    }
  }

  /**
   * Dead-letters the job. Should settling stop part-way (the dead letter filed, its batch item
   * or callback not), the job is put back for a moment, without an attempt: its next run finds
   * the dead letter and finishes the rest (`#settledBefore`).
   */
  async #dead(
    decision: Extract<Decision<D, R>, { action: 'dead' }>,
    writes: JobWrites<D, R>,
    run: StepRun<D, R>,
  ): Promise<void> {
    try {
      await writes.dead(decision.record, decision.error, decision.history);
    } catch (error) {
      if (isLockLost(error)) throw error;
      run.logger.error(
        { err: error, code: decision.error.code },
        'dead-lettering stopped part-way: the job comes back to finish it',
      );
      await writes.delay(Date.now() + FINISH_SETTLING_MS, decision.record).catch(() => {
        throw error;
      });
      throw new DelayedError('dead-lettering stopped part-way: finishing it again');
    }
  }

  /**
   * The end an earlier run of this job already settled: a dead letter (filed by a run that
   * died or threw before BullMQ recorded the failure: its batch item and callback are finished
   * here, and the job fails for good), a completion (recorded with its batch item or
   * callback by a run that lost the job before BullMQ recorded it: finished here and returned),
   * or a cancel that ended it unpaid (finished here; BullMQ completes it with the cancel).
   * Only a job that ran before can have one (stalled, an attempt failed, replayed); other jobs
   * skip the look-up (the hot path of healthy jobs).
   */
  async #settledBefore(
    job: Job<D>,
    books: JobBooks<D, R>,
    writes: JobWrites<D, R>,
  ): Promise<{ result: R } | { cancelled: JobCancelled } | undefined> {
    const data = job.data as Partial<AnyJobData> | undefined;
    const replays = data?.meta?.replays ?? 0;
    const ranBefore =
      job.stalledCounter > 0 || job.attemptsMade > 0 || replays > 0 || !!data?.history?.length;
    if (!job.id || !ranBefore) return undefined;
    const { completed, cancelled, deadLetter } = await books.settlement.ending(job);
    if (cancelled) return { cancelled: await writes.cancelled() };
    if (deadLetter && (deadLetter.meta.replays ?? 0) >= replays) {
      await writes.finishDead(deadLetter);
      throw new UnrecoverableError('[ALREADY_DEAD] the job is already in the dead-letter queue');
    }
    if (deadLetter) {
      // Filed before the replay that queued this run, which has not removed it yet (or died
      // before it could): that filing is over.
      await books.deadLetters.remove(job.id, deadLetter);
    }
    if (completed && completed.replays === replays) {
      await writes.completed(completed.result as R);
      return { result: completed.result as R };
    }
    return undefined;
  }
}

/** `{jobId, attempt}`, and the tenant of drawing and CME jobs (its name, never a key). */
function defaultBindings(job: Job<unknown>): Record<string, unknown> {
  const meta = (job.data as Partial<AnyJobData> | undefined)?.meta;
  return {
    jobId: job.id,
    attempt: job.attemptsMade + 1,
    ...(meta ? { tenant: jobTenant(meta) } : {}),
  };
}

/** The `[CODE] message` form `parseFailedReason` reads back. */
function failedReason(error: AtelierError): string {
  return `[${error.code}] ${error.message}`;
}

/** Any thrown value as a retryable `INTERNAL` error (keeps a code the thrower set). */
export function toAtelierError(error: unknown): AtelierError {
  if (error instanceof AtelierError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = hasCode(error) && /^[A-Z][A-Z0-9_.]+$/.test(error.code) ? error.code : 'INTERNAL';
  return new AtelierError(message, { code, retryable: true, cause: error });
}
