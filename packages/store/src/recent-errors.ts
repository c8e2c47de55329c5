import { atelierKeys } from '@atelier/shared';
import type { RedisClient } from './redis.ts';

export interface RecentError {
  at: number;
  queue: string;
  jobId: string;
  code: string;
  /** `retryable`, `terminal`, `throttled`, … */
  kind: string;
}

const KEPT = 200;

/** The last few hundred failure codes across all workers (dashboard: "recent error codes"). */
export class RecentErrors {
  readonly #redis: RedisClient;
  readonly #key: string;

  constructor(redis: RedisClient, prefix: string) {
    this.#redis = redis;
    this.#key = atelierKeys(prefix).recentErrors;
  }

  async record(error: RecentError): Promise<void> {
    await this.#redis
      .multi()
      .lpush(this.#key, JSON.stringify(error))
      .ltrim(this.#key, 0, KEPT - 1)
      .exec();
  }

  async list(limit = KEPT): Promise<RecentError[]> {
    const items = await this.#redis.lrange(this.#key, 0, limit - 1);
    return items.map((item) => JSON.parse(item) as RecentError);
  }
}
