import type { Logger } from '@atelier/shared';
import type { BatchSteering } from '@atelier/store';

/**
 * A worker's share of batch steering: every `intervalMs`, each batch with tending left (a
 * cancel whose waiting items are not all ended — the API died part-way, or items were running
 * and came back to wait — or a resume whose parked items are not all released) gets a round
 * of `BatchSteering.tend`, under the batch's lease (one process at a time, across workers and
 * API replicas). A failed round is logged and tried again at the next tick.
 */
export class BatchSteeringKeeper {
  readonly #steering: BatchSteering;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopping = false;

  constructor(steering: BatchSteering, logger: Logger) {
    this.#steering = steering;
    this.#logger = logger;
  }

  start(intervalMs: number): void {
    this.#stopping = false;
    const tick = () => {
      this.#running = this.#round().finally(() => {
        this.#running = undefined;
        if (!this.#stopping) this.#timer = setTimeout(tick, intervalMs).unref();
      });
    };
    this.#timer = setTimeout(tick, 0).unref();
  }

  /** No more rounds; a round under way stops between chunks (this waits for it). */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async #round(): Promise<void> {
    try {
      for (const id of await this.#steering.pending()) {
        if (this.#stopping) return;
        try {
          const tended = await this.#steering.tend(id, () => this.#stopping);
          if (tended && (tended.ended > 0 || tended.released > 0)) {
            this.#logger.info({ batchId: id, ...tended }, 'tended a steered batch');
          }
        } catch (err) {
          this.#logger.error({ err, batchId: id }, 'tending a steered batch failed; carrying on');
        }
      }
    } catch (err) {
      this.#logger.warn({ err }, 'could not read the steered batches; trying again later');
    }
  }
}
