import type { JobKind } from '@atelier/shared';
import { FairQueue, PARK_DELAY_MS, type ParkedWork, type RedisClient } from '@atelier/store';
import type { ProducerQueues } from './producer-queues.ts';
import type { RedisGuard } from './redis-guard.ts';

/**
 * The producer's side of fair share: before jobs are added, how many go to BullMQ as usual and
 * how many are added parked (`parkedDelayMs`) because other work waits at their priority or
 * the workers' window is full (`FairQueue.route`, one script, which lists the parked ones in
 * their tenant's backlog). Off (one tenant, or `ATELIER_FAIR_SHARE=false`): every job goes as
 * usual, without a call to Redis.
 */
export class FairAdmission {
  readonly enabled: boolean;
  readonly #queues: Partial<Record<JobKind, FairQueue>>;
  readonly #guard: RedisGuard;

  constructor(options: {
    enabled: boolean;
    queues: ProducerQueues;
    redis: RedisClient;
    prefix: string;
    guard: RedisGuard;
  }) {
    const { enabled, queues, redis, prefix } = options;
    this.enabled = enabled;
    this.#guard = options.guard;
    this.#queues = enabled
      ? {
          drawing: new FairQueue(redis, prefix, queues.drawing),
          cme: new FairQueue(redis, prefix, queues.cme),
        }
      : {};
  }

  /** The delay that parks a job (BullMQ runs it only once a dispatcher promotes it). */
  get parkedDelayMs(): number {
    return PARK_DELAY_MS;
  }

  /**
   * Of `count` jobs of `tenant` at `bullmqPriority` in `kind`'s queue, how many to add as usual
   * (the first ones); the others are parked (`work` describes them all, from the first).
   */
  async route(
    kind: JobKind,
    tenant: string,
    bullmqPriority: number,
    count: number,
    work: ParkedWork,
  ): Promise<number> {
    const fair = this.#queues[kind];
    if (!fair) return count;
    return this.#guard.run(() => fair.route(tenant, bullmqPriority, count, work));
  }
}
