import { batchItemOfJobId, kindOfJobId, type Logger } from '@atelier/shared';
import {
  announceBatchCompleted,
  type BatchInfo,
  type BatchLedger,
  type BatchSteering,
  type CallbackScheduler,
  type JobCancellation,
  type SteerResult,
} from '@atelier/store';
import { BatchStateError } from './errors/batch-state-error.ts';
import { CancelConflictError } from './errors/cancel-conflict-error.ts';
import { NotFoundError } from './errors/not-found-error.ts';
import type { JobStatus } from './job-status.ts';
import type { JobStatusReader } from './job-status-reader.ts';
import type { ProducerQueues } from './producer-queues.ts';
import type { RedisGuard } from './redis-guard.ts';

export interface SteeringOperationsOptions {
  readonly queues: ProducerQueues;
  readonly ledger: BatchLedger;
  readonly steering: BatchSteering;
  readonly cancellation: JobCancellation;
  readonly status: JobStatusReader;
  readonly completions: CallbackScheduler;
  readonly guard: RedisGuard;
  readonly logger: Logger;
}

/** A batch's tending in this process may take this long per round (a 100k batch: seconds). */
const TEND_TIMEOUT_MS = 5 * 60_000;
/** On close, tending under way may finish for this long before it stops between chunks. */
const CLOSE_GRACE_MS = 10_000;

/**
 * Cancel of a job; cancel, pause and resume of a batch. Each request is one script (idempotent,
 * safe across API replicas); what a batch request leaves to do — ending a cancelled batch's
 * waiting items, releasing a resumed batch's parked ones — starts here in the background right
 * after the answer, and any worker's keeper finishes it should this process stop.
 */
export class SteeringOperations {
  readonly #o: SteeringOperationsOptions;
  readonly #tending = new Set<Promise<void>>();
  #closing = false;
  #stopping = false;

  constructor(options: SteeringOperationsOptions) {
    this.#o = options;
  }

  /**
   * Cancels a job that has not been submitted: a waiting job ends `cancelled` at once; a
   * running one stops at its submit. Idempotent. `CancelConflictError` once the job was
   * submitted (`ALREADY_SUBMITTED`) or ended (`ALREADY_FINISHED`).
   */
  async cancelJob(id: string): Promise<JobStatus> {
    const kind = kindOfJobId(id);
    if (kind === undefined) throw new NotFoundError('job', id);
    const { guard, cancellation, queues } = this.#o;
    const found = kind === 'drawing' ? batchItemOfJobId(id) : undefined;
    const item = found ? { batchId: found.batchId, index: found.index } : undefined;
    const { answer, finishedAt } = await guard.run(() =>
      cancellation.cancelJob(queues.forKind(kind), { id, kind, ...(item ? { item } : {}) }),
    );
    if (answer === 'missing') throw new NotFoundError('job', id);
    if (answer === 'submitted' || answer === 'finished') throw new CancelConflictError(id, answer);
    if (answer !== 'already') this.#o.logger.info({ jobId: id, answer }, 'job cancel');
    if (item && finishedAt !== undefined) await this.#announce(item.batchId, finishedAt);
    return this.#o.status.get(id);
  }

  /**
   * Cancels a batch: from the answer on, none of its items starts a submit; items already
   * submitted finish and keep their results. Idempotent; `BatchStateError` for a batch that
   * completed.
   */
  async cancelBatch(id: string): Promise<BatchInfo> {
    const result = await this.#o.guard.run(() => this.#o.steering.cancel(id));
    const batch = this.#checked(id, 'cancel', result, ['cancelling', 'cancelled']);
    if (batch.state === 'cancelling') this.#tendSoon(id);
    return batch;
  }

  /** Pauses a batch: no new submits until it is resumed. Idempotent. */
  async pauseBatch(id: string): Promise<BatchInfo> {
    const result = await this.#o.guard.run(() => this.#o.steering.pause(id));
    return this.#checked(id, 'pause', result, ['paused']);
  }

  /** Resumes a paused batch: its parked items are released at once. Idempotent. */
  async resumeBatch(id: string): Promise<BatchInfo> {
    const result = await this.#o.guard.run(() => this.#o.steering.resume(id));
    const batch = this.#checked(id, 'resume', result, ['open']);
    this.#tendSoon(id);
    return batch;
  }

  /**
   * Starts no more tending; what is under way may finish (a CLI's cancel ends the waiting
   * items before it exits) for `CLOSE_GRACE_MS`, then stops between chunks (the workers'
   * keepers carry on).
   */
  async close(): Promise<void> {
    this.#closing = true;
    const all = Promise.all(this.#tending);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_GRACE_MS);
    });
    await Promise.race([all, grace]);
    clearTimeout(timer);
    this.#stopping = true;
    await all;
  }

  #checked(
    id: string,
    action: 'pause' | 'resume' | 'cancel',
    { state, batch }: SteerResult,
    allowed: readonly string[],
  ): BatchInfo {
    if (state === 'missing' || !batch) throw new NotFoundError('batch', id);
    if (!allowed.includes(state)) throw new BatchStateError(id, action, state);
    this.#o.logger.info({ batchId: id, action, state }, 'batch steered');
    return batch;
  }

  /** A round of tending now, in the background (its lease keeps it to one process at a time). */
  #tendSoon(id: string): void {
    if (this.#closing) return;
    const { guard, steering, logger } = this.#o;
    const tending = guard
      .run(() => steering.tend(id, () => this.#stopping), TEND_TIMEOUT_MS)
      .then(
        (tended) => {
          if (tended) logger.info({ batchId: id, ...tended }, 'tended a steered batch');
        },
        (err: unknown) =>
          logger.warn({ err, batchId: id }, 'tending a steered batch failed: a worker finishes it'),
      )
      .finally(() => this.#tending.delete(tending));
    this.#tending.add(tending);
  }

  #announce(batchId: string, finishedAt: number): Promise<void> {
    const { completions: callbacks, ledger, logger, guard } = this.#o;
    return guard.run(() =>
      announceBatchCompleted(batchId, { callbacks, ledger, logger }, finishedAt),
    );
  }
}
