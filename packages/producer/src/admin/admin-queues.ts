import {
  ALL_QUEUES,
  atelierKeys,
  type Logger,
  type QueueName,
  type RedisClient,
} from '@atelier/shared';
import { Queue } from 'bullmq';

/** Why Atelier itself paused a queue (written by the worker's `QueueHalt`). */
export interface HaltReason {
  code: string;
  message: string;
  at: number;
}

/**
 * The worker's limiter `max` (`LIMITER_MAX` in the worker's job runner, which the producer may
 * not import): a queue is throttled while `getRateLimitTtl(LIMITER_MAX) > 0`.
 */
export const LIMITER_MAX = 1_000_000;

/**
 * The dashboard's handles on every Atelier queue (drawing, CME, callbacks) on the shared
 * connection, and the operator actions on a queue as a whole.
 */
export class AdminQueues {
  readonly #queues: Map<QueueName, Queue>;
  readonly #redis: RedisClient;
  readonly #prefix: string;

  constructor(redis: RedisClient, prefix: string, logger: Logger) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#queues = new Map(
      ALL_QUEUES.map((name) => {
        const queue = new Queue(name, { connection: redis, prefix });
        queue.on('error', (err) => logger.warn({ err, queue: name }, 'queue error'));
        return [name, queue];
      }),
    );
  }

  all(): Queue[] {
    return [...this.#queues.values()];
  }

  get(name: string): Queue | undefined {
    return this.#queues.get(name as QueueName);
  }

  async halt(name: string): Promise<HaltReason | undefined> {
    const json = await this.#redis.get(atelierKeys(this.#prefix).halt(name));
    if (!json) return undefined;
    try {
      const record = JSON.parse(json) as Partial<HaltReason>;
      return {
        code: String(record.code ?? 'UNKNOWN'),
        message: String(record.message ?? ''),
        at: Number(record.at ?? 0),
      };
    } catch {
      return { code: 'UNKNOWN', message: 'unreadable halt record', at: 0 };
    }
  }

  /** Clears the halt record (if any) and resumes the queue, as the worker's `QueueHalt` does. */
  async resume(name: string): Promise<void> {
    const queue = this.#require(name);
    await this.#redis.del(atelierKeys(this.#prefix).halt(name));
    await queue.resume();
  }

  async pause(name: string): Promise<void> {
    await this.#require(name).pause();
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((queue) => queue.close()));
  }

  #require(name: string): Queue {
    const queue = this.get(name);
    if (!queue) throw new RangeError(`no queue named "${name}"`);
    return queue;
  }
}
