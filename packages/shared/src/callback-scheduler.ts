import type { Queue } from 'bullmq';
import type { BatchInfo, BatchLedger } from './batch-ledger.ts';
import type { CallbackEvent, CallbackJobData } from './job-payloads.ts';
import type { Logger } from './logger.ts';

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

  get enabled(): boolean {
    return this.#o.queue !== undefined;
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
        'callback NOT sent: ATELIER_CALLBACK_SECRET is not set on this worker',
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
 * `again`: a repeated settle or submission that found the batch finished announces it only if
 * the process that finished it died before noting the announcement.
 */
export async function announceBatchCompleted(
  batch: BatchInfo,
  deps: { callbacks: CallbackScheduler; ledger: BatchLedger; logger: Logger },
  options: { again?: boolean } = {},
): Promise<void> {
  const { completedAt } = batch;
  if (batch.state !== 'completed' || completedAt === undefined) return;
  if (options.again && (await deps.ledger.wasAnnounced(batch.id, completedAt))) return;
  deps.logger.info(
    { batchId: batch.id, total: batch.total, dead: batch.dead, again: options.again === true },
    'batch completed',
  );
  if (batch.callbackUrl) {
    const body = {
      event: 'batch.completed',
      id: batch.id,
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
      `${batch.id}.batch.${completedAt}`,
    );
  }
  await deps.ledger.markAnnounced(batch.id, completedAt);
}
