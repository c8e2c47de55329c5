import {
  type AnyJobData,
  type AtelierError,
  type AttemptRecord,
  type CmeResult,
  type DeadLetter,
  type DrawingResult,
  isProviderError,
  type JobKind,
  type Logger,
} from '@atelier/shared';
import {
  announceBatchCompleted,
  type BatchItemResult,
  type BatchLedger,
  type CallbackScheduler,
  type DeadLetterStore,
  type FailedJobRecord,
} from '@atelier/store';
import type { Job } from 'bullmq';

export interface JobSettlementOptions {
  deadLetters: DeadLetterStore;
  batches: BatchLedger;
  callbacks: CallbackScheduler;
  logger: Logger;
  /** Called once per dead letter actually inserted (metrics). */
  onDeadLetter?: (entry: DeadLetter) => void;
}

/**
 * Everything that must happen when a job reaches its end, before BullMQ records it: the batch
 * ledger, the dead-letter queue and the callback. Every step is idempotent, so a worker that
 * dies half-way and a job that runs again settle it exactly once.
 */
export class JobSettlement {
  readonly #o: JobSettlementOptions;

  constructor(options: JobSettlementOptions) {
    this.#o = options;
  }

  async completed(job: Job<AnyJobData>, result: DrawingResult | CmeResult): Promise<void> {
    const data = job.data;
    const id = job.id ?? '';
    const { batchId, batchIndex, callbackUrl, replays = 0 } = data.meta;
    if (batchId !== undefined && batchIndex !== undefined) {
      const line: BatchItemResult & { state: 'completed' } = {
        index: batchIndex,
        jobId: id,
        state: 'completed',
      };
      if ('images' in result) {
        line.images = result.images;
        line.taskId = result.taskId;
      }
      await this.#settleBatch(batchId, line);
    }
    if (callbackUrl) {
      const body = {
        event: 'job.completed',
        id,
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
   * Inserts the dead letter (idempotent), settles the batch item and schedules the callback.
   * With `stillFailed` (the reconciler, filing a job BullMQ failed), only if the job is still
   * failed as it was read: `undefined`, and nothing done, when it was replayed, retried or
   * removed since.
   */
  async dead(
    job: Job<AnyJobData>,
    error: AtelierError,
    history: AttemptRecord[],
    attempts = job.attemptsMade + 1,
    stillFailed?: FailedJobRecord,
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
    if (data.kind === 'drawing' && data.state?.taskId) entry.taskId = data.state.taskId;

    const filing = stillFailed
      ? await this.#o.deadLetters.insertIfFailed(entry, stillFailed)
      : (await this.#o.deadLetters.insert(entry))
        ? 'inserted'
        : 'exists';
    if (filing === 'stale') return undefined;
    const inserted = filing === 'inserted';
    const stored = inserted ? entry : ((await this.#o.deadLetters.get(id)) ?? entry);
    if (inserted) {
      this.#o.onDeadLetter?.(entry);
      this.#o.logger.warn({ jobId: id, code: entry.code, queue: kind }, 'job dead-lettered');
    }

    const { batchId, batchIndex, callbackUrl, replays = 0 } = data.meta;
    if (batchId !== undefined && batchIndex !== undefined) {
      await this.#settleBatch(batchId, {
        index: batchIndex,
        jobId: id,
        state: 'dead',
        code: stored.code,
        message: stored.message,
        ...(stored.taskId ? { taskId: stored.taskId } : {}),
      });
    }
    if (callbackUrl) {
      const body = {
        event: 'job.dead',
        id,
        kind,
        state: 'dead',
        attempts: stored.attempts,
        error: { code: stored.code, message: stored.message },
        batchId,
      };
      await this.#o.callbacks.schedule(callbackUrl, 'job.dead', body, `${id}.dead.${replays}`);
    }
    return stored;
  }

  async #settleBatch(
    batchId: string,
    line: BatchItemResult & { state: 'completed' | 'dead' },
  ): Promise<void> {
    const { batches, callbacks, logger } = this.#o;
    const { changed, finished, finishedAt } = await batches.settle(batchId, line);
    // Announced by the settle that finished the batch — or by a repeated settle (this job ran
    // again after dying in between) if that one never noted its announcement.
    if (finishedAt === undefined && (changed || !finished)) return;
    await announceBatchCompleted(batchId, { callbacks, ledger: batches, logger }, finishedAt);
  }
}
