import type { Logger, Outcome } from '@atelier/shared';
import { misroutedError, misroutedOutcome } from './drawing-answers.ts';
import type { DrawingHealth } from './drawing-health.ts';
import type { DrawingProvider } from './drawing-processor.ts';

export interface MisrouteGuardOptions {
  provider: DrawingProvider;
  health: Pick<DrawingHealth, 'recordMisroute'>;
  logger: Logger;
  /** `DRAWING_MISROUTE_STREAK`: 404/3xx answers in a row (all workers) before the URL is wrong. */
  minCount: number;
  /** `DRAWING_MISROUTE_MS`: …and for at least this long. */
  minMs: number;
  now?: () => number;
}

/**
 * The drawing provider, with bare 404/3xx answers (calls that reached no API: a load balancer
 * mid-deploy, or a wrong URL) counted in a streak shared by all workers. Each stays a transient
 * failure until the streak is long enough in count and in time; then it is a configuration
 * error and the queue halts. A good answer ends the streak (`DrawingHealth.recordHealthy`).
 */
export class MisrouteGuard implements DrawingProvider {
  readonly #o: Required<MisrouteGuardOptions>;

  constructor(options: MisrouteGuardOptions) {
    this.#o = { now: Date.now, ...options };
  }

  readonly submit: DrawingProvider['submit'] = async (task, signal, hooks) =>
    this.#counted(await this.#o.provider.submit(task, signal, hooks));

  readonly query: DrawingProvider['query'] = async (taskId, signal) =>
    this.#counted(await this.#o.provider.query(taskId, signal));

  async #counted<T>(outcome: Outcome<T>): Promise<Outcome<T>> {
    const error = misroutedError(outcome);
    if (error === undefined) return outcome;
    const { health, minCount, minMs, logger } = this.#o;
    const now = this.#o.now();
    // A quiet spell longer than this ends the streak: an idle queue is not a wrong URL.
    const streak = await health.recordMisroute(Math.max(4 * minMs, 60_000), now);
    const counted = misroutedOutcome(error, streak, { minCount, minMs }, now);
    if (counted.kind === 'failed' && counted.error.kind !== 'config') {
      logger.warn(
        { code: error.code, streak: streak.count, forMs: now - streak.sinceMs },
        'drawing endpoint answered without reaching the API (404/3xx): retried as transient',
      );
    }
    return counted;
  }
}
