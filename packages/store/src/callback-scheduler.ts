import type { CallbackEvent, CallbackJobData, Logger } from '@atelier/shared';
import type { Queue } from 'bullmq';

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
