import {
  type AnyJobData,
  type AtelierError,
  type AttemptRecord,
  type CmeResult,
  type DeadLetter,
  type DrawingResult,
  isProviderError,
  type JobCancelled,
  type JobKind,
  jobTenant,
  type Logger,
  unpaidImages,
} from '@atelier/shared';
import {
  announceBatchCompleted,
  type BatchItemResult,
  type BatchLedger,
  type CallbackScheduler,
  type DeadLetterStore,
  type FailedJobRecord,
  type JobCancellation,
  type JobFence,
  type JobLock,
  jobLock,
  type RecordedEnding,
  type TenantUsage,
} from '@atelier/store';
import type { Job } from 'bullmq';

export interface JobSettlementOptions {
  deadLetters: DeadLetterStore;
  batches: BatchLedger;
  callbacks: CallbackScheduler;
  /** Records completions settled before BullMQ records them, and reads them back. */
  fence: JobFence;
  /** Ends jobs a cancel stopped at their submit, unpaid. */
  cancellation: JobCancellation;
  logger: Logger;
  /** Where a dead drawing that was never paid for gives its images back (its tenant's day). */
  usage: TenantUsage;
  /** Called once per dead letter actually inserted (metrics). */
  onDeadLetter?: (entry: DeadLetter) => void;
}

/**
 * Everything that must happen when a job reaches its end, before BullMQ records it: the batch
 * ledger, the dead-letter queue, the tenant's usage (images never paid for go back) and the
 * callback. Every step is idempotent, so a worker that dies half-way and a job that runs again
 * settle it exactly once. Callbacks name the job's tenant.
 *
 * Fencing: given the job's `lock` (a worker running the job), the write that decides the end
 * — the dead letter, or the batch item and completion record of a completed job — is made only
 * while that worker still holds the lock, in the same script; what follows it (batch item of a
 * dead job, callbacks) is scheduled only after it, and a run that finds an end already decided
 * finishes that one (`ending`, `finishDead`): a worker that lost its job cannot settle it, and
 * one that lost it right after deciding cannot be contradicted.
 */
export class JobSettlement {
  readonly #o: JobSettlementOptions;

  constructor(options: JobSettlementOptions) {
    this.#o = options;
  }

  /**
   * Settles a completion: batch item and completion record (one fenced script), or the
   * completion record alone, then the callback. A job with neither a batch nor a callback has
   * nothing to settle (BullMQ's own completion checks the lock).
   */
  async completed(
    job: Job<AnyJobData>,
    result: DrawingResult | CmeResult,
    lock?: JobLock,
  ): Promise<void> {
    const data = job.data;
    const id = job.id ?? '';
    const { batchId, batchIndex, callbackUrl, replays = 0 } = data.meta;
    const inBatch = batchId !== undefined && batchIndex !== undefined;
    if (!inBatch && !callbackUrl) return;
    const completion = { replays, result };
    if (inBatch) {
      const line: BatchItemResult & { state: 'completed' } = {
        index: batchIndex,
        jobId: id,
        state: 'completed',
      };
      if ('images' in result) {
        line.images = result.images;
        if (result.archived !== undefined) line.archived = result.archived;
        line.taskId = result.taskId;
      }
      await this.#settleBatch(batchId, line, lock ? { lock, completion } : undefined);
    } else if (lock) {
      await this.#o.fence.markCompleted(lock, replays, result);
    }
    if (callbackUrl) {
      const body = {
        event: 'job.completed',
        id,
        tenant: jobTenant(data.meta),
        kind: data.kind,
        state: 'completed',
        // As GET /v1/jobs/{id} will say: BullMQ counts this attempt when it records the completion.
        attempts: job.attemptsMade + 1,
        result,
        batchId,
      };
      await this.#o.callbacks.schedule(
        callbackUrl,
        'job.completed',
        body,
        `${id}.completed.${replays}`,
      );
    }
  }

  /**
   * Files the dead letter (idempotent), then settles the batch item and schedules the callback
   * (`finishDead`). `guard` is who may file it: the worker running the job (its `lock`: only
   * while it holds, else `LockLostError`), or the reconciler filing a job BullMQ failed (the
   * job as read, `FailedJobRecord`: only if it is still failed so; `undefined`, and nothing
   * done, when it was replayed, retried or removed since).
   */
  async dead(
    job: Job<AnyJobData>,
    error: AtelierError,
    history: AttemptRecord[],
    attempts = job.attemptsMade + 1,
    guard?: JobLock | FailedJobRecord,
  ): Promise<DeadLetter | undefined> {
    const data = job.data;
    const id = job.id ?? '';
    const kind: JobKind = data.kind;
    const entry: DeadLetter = {
      id,
      queue: kind,
      kind,
      code: error.code,
      message: error.message,
      attempts,
      history,
      request: data.kind === 'drawing' ? data.task : data.operation,
      meta: data.meta,
      failedAt: Date.now(),
    };
    if (isProviderError(error)) {
      if (error.providerMessage !== undefined) entry.providerMessage = error.providerMessage;
      if (error.providerEnglishMessage !== undefined)
        entry.providerEnglishMessage = error.providerEnglishMessage;
    }
    if (data.kind === 'drawing' && data.state?.taskId) {
      entry.taskId = data.state.taskId;
      if (data.state.submittedAt !== undefined) entry.submittedAt = data.state.submittedAt;
    }
    if (data.kind === 'drawing' && data.state) {
      // An intent without a taskId is one more submit whose outcome nobody saw.
      const unconfirmed =
        (data.state.unconfirmedSubmits ?? 0) +
        (data.state.submitIntentAt !== undefined && !data.state.taskId ? 1 : 0);
      if (unconfirmed > 0) entry.unconfirmedSubmits = unconfirmed;
    }

    const filing =
      guard && 'failedKey' in guard
        ? await this.#o.deadLetters.insertIfFailed(entry, guard)
        : (await this.#o.deadLetters.insert(entry, guard))
          ? 'inserted'
          : 'exists';
    if (filing === 'stale') return undefined;
    const inserted = filing === 'inserted';
    const stored = inserted ? entry : ((await this.#o.deadLetters.get(id)) ?? entry);
    if (inserted) {
      this.#o.onDeadLetter?.(entry);
      this.#o.logger.warn({ jobId: id, code: entry.code, queue: kind }, 'job dead-lettered');
    }
    await this.finishDead(stored, guard && 'token' in guard ? guard : undefined);
    return stored;
  }

  /**
   * What follows filing a dead letter, from the filed entry: the images of a drawing never paid
   * for go back to its tenant's usage (`unpaidImages`, once per job), the batch item (dead,
   * with the entry's code and message) and the `job.dead` callback (delivery id
   * `<id>.dead.<replays>`). Idempotent, so a run that finds the entry filed (a worker died or
   * threw after filing it) or a reconciler pass can call it again.
   */
  async finishDead(entry: DeadLetter, lock?: JobLock): Promise<void> {
    const id = entry.id;
    const { batchId, batchIndex, callbackUrl, replays = 0, usageDay } = entry.meta;
    const images = unpaidImages(entry);
    if (images > 0 && usageDay !== undefined) {
      const tenant = jobTenant(entry.meta);
      if (await this.#o.usage.giveBack({ id, tenant, day: usageDay, images })) {
        this.#o.logger.info({ jobId: id, tenant, images }, 'images never paid for given back');
      }
    }
    if (batchId !== undefined && batchIndex !== undefined) {
      await this.#settleBatch(
        batchId,
        {
          index: batchIndex,
          jobId: id,
          state: 'dead',
          code: entry.code,
          message: entry.message,
          ...(entry.taskId ? { taskId: entry.taskId } : {}),
        },
        lock ? { lock } : undefined,
      );
    }
    if (callbackUrl) {
      const body = {
        event: 'job.dead',
        id,
        tenant: jobTenant(entry.meta),
        kind: entry.kind,
        state: 'dead',
        attempts: entry.attempts,
        error: { code: entry.code, message: entry.message },
        batchId,
      };
      await this.#o.callbacks.schedule(callbackUrl, 'job.dead', body, `${id}.dead.${replays}`);
    }
  }

  /**
   * Ends a job a cancel stopped at its submit (of the job, or of its batch), unpaid: the job's
   * cancel record and its batch item (`cancelled`) in one fenced script, then — when that
   * ended the batch — `batch.completed`. Idempotent. Returns how it ended (BullMQ completes the
   * job with it). No job callback: the cancel was asked for, and answered, by the caller.
   */
  async cancelled(job: Job<AnyJobData>, lock: JobLock): Promise<JobCancelled> {
    const { batchId, batchIndex } = job.data.meta;
    const item =
      batchId !== undefined && batchIndex !== undefined
        ? { batchId, index: batchIndex }
        : undefined;
    const { outcome, finishedAt } = await this.#o.cancellation.settleRunning(lock, item);
    this.#o.logger.info({ jobId: lock.jobId, by: outcome.by, batchId }, 'job cancelled unpaid');
    if (batchId !== undefined && finishedAt !== undefined) {
      const { batches, callbacks, logger } = this.#o;
      await announceBatchCompleted(batchId, { callbacks, ledger: batches, logger }, finishedAt);
    }
    return outcome;
  }

  /** The end an earlier run of this job settled, if any (completion record, dead letter). */
  ending(job: Job<AnyJobData>): Promise<RecordedEnding> {
    const { jobKey, jobId } = jobLock(job, '');
    return this.#o.fence.ending(jobKey, jobId);
  }

  async #settleBatch(
    batchId: string,
    line: BatchItemResult & { state: 'completed' | 'dead' },
    fence?: Parameters<BatchLedger['settle']>[2],
  ): Promise<void> {
    const { batches, callbacks, logger } = this.#o;
    const { changed, finished, finishedAt } = await batches.settle(batchId, line, fence);
    // Announced by the settle that finished the batch — or by a repeated settle (this job ran
    // again after dying in between) if that one never noted its announcement.
    if (finishedAt === undefined && (changed || !finished)) return;
    await announceBatchCompleted(batchId, { callbacks, ledger: batches, logger }, finishedAt);
  }
}
