import type { CallbackEvent, CallbackJobData, Logger } from '@atelier/shared';
import type { Queue } from 'bullmq';
import type { BatchInfo, BatchLedger } from './batch-ledger.ts';

export interface CallbackSchedulerOptions {
  /** The `callbacks` queue; without one (no `ATELIER_CALLBACK_SECRET`) nothing can be sent. */
  queue: Queue<CallbackJobData> | undefined;
  logger: Logger;
  /** Hears about each callback a finishing job asked for that could not be sent (metrics). */
  onUnsent?: (event: CallbackEvent) => void;
}

/**
 * Enqueues callback deliveries on the `callbacks` queue. The job id makes each delivery
 * unique per (job, event, replay), so a worker that settles a job twice sends one callback.
 * Without a queue a callback is not sent, and never silently: it is logged and counted.
 */
export class CallbackScheduler {
  readonly #o: CallbackSchedulerOptions;

  constructor(options: CallbackSchedulerOptions) {
    this.#o = options;
  }

  async schedule(
    url: string,
    event: CallbackEvent,
    body: Record<string, unknown>,
    dedupeId: string,
  ): Promise<void> {
    const deliveryId = dedupeId.replaceAll(':', '_');
    if (!this.#o.queue) {
      const idField = event === 'batch.completed' ? 'batchId' : 'jobId';
      this.#o.logger.warn(
        { [idField]: body.id, event, deliveryId },
        'callback NOT sent: ATELIER_CALLBACK_SECRET is not set on this process',
      );
      this.#o.onUnsent?.(event);
      return;
    }
    // The delivery id travels inside the signed body too, so receivers can trust it for de-duplication.
    await this.#o.queue.add(
      event,
      { url, event, body: { ...body, deliveryId } },
      { jobId: deliveryId },
    );
  }
}

/**
 * What happens when a batch finishes, wherever it finished: in the worker that settled its
 * last item, or in the API process that counted its last chunk after every item had settled.
 * Logs it, schedules the `batch.completed` callback and notes that it did. The delivery id
 * carries `completedAt`: a batch reopened by a replay and finished again calls back again.
 *
 * `finishedAt`: the time of the call that just finished the batch. Without it (a repeated
 * settle or submission that found the batch finished) the completion is announced only if the
 * process that finished it died before noting the announcement, and only if it is still
 * finished (not reopened by a replay meanwhile).
 */
export async function announceBatchCompleted(
  batchId: string,
  deps: { callbacks: CallbackScheduler; ledger: BatchLedger; logger: Logger },
  finishedAt?: number,
): Promise<void> {
  const read = await deps.ledger.get(batchId);
  if (!read) return;
  const batch: BatchInfo =
    finishedAt === undefined ? read : { ...read, state: 'completed', completedAt: finishedAt };
  const { completedAt } = batch;
  if (batch.state !== 'completed' || completedAt === undefined) return;
  const again = finishedAt === undefined;
  if (again && (await deps.ledger.wasAnnounced(batchId, completedAt))) return;
  deps.logger.info({ batchId, total: batch.total, dead: batch.dead, again }, 'batch completed');
  if (batch.callbackUrl) {
    const body = {
      event: 'batch.completed',
      id: batchId,
      total: batch.total,
      completed: batch.completed,
      dead: batch.dead,
      pending: batch.pending,
      state: batch.state,
    };
    await deps.callbacks.schedule(
      batch.callbackUrl,
      'batch.completed',
      body,
      `${batchId}.batch.${completedAt}`,
    );
  }
  await deps.ledger.markAnnounced(batchId, completedAt);
}
