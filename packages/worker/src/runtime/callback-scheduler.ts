import type { CallbackEvent, CallbackJobData } from '@atelier/shared';
import type { Queue } from 'bullmq';

/**
 * Enqueues callback deliveries on the `callbacks` queue. The job id makes each delivery
 * unique per (job, event, replay), so a worker that settles a job twice sends one callback.
 */
export class CallbackScheduler {
  readonly #queue: Queue<CallbackJobData> | undefined;

  /** Without a queue (no `ATELIER_CALLBACK_SECRET`), callbacks are not sent. */
  constructor(queue: Queue<CallbackJobData> | undefined) {
    this.#queue = queue;
  }

  get enabled(): boolean {
    return this.#queue !== undefined;
  }

  async schedule(
    url: string,
    event: CallbackEvent,
    body: Record<string, unknown>,
    dedupeId: string,
  ): Promise<void> {
    if (!this.#queue) return;
    const deliveryId = dedupeId.replaceAll(':', '_');
    // The delivery id travels inside the signed body too, so receivers can trust it for de-duplication.
    await this.#queue.add(
      event,
      { url, event, body: { ...body, deliveryId } },
      { jobId: deliveryId },
    );
  }
}
