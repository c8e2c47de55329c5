import { ALL_QUEUES, type Logger, type QueueName } from '@atelier/shared';
import { type HaltRecord, QueueHalt, type RedisClient } from '@atelier/store';
import { Queue } from 'bullmq';

/**
 * The dashboard's handles on every Atelier queue (drawing, CME, callbacks) on the shared
 * connection, and the operator actions on a queue as a whole.
 */
export class AdminQueues {
  readonly #queues: Map<QueueName, { queue: Queue; halt: QueueHalt }>;

  constructor(redis: RedisClient, prefix: string, logger: Logger) {
    this.#queues = new Map(
      ALL_QUEUES.map((name) => {
        const queue = new Queue(name, { connection: redis, prefix });
        queue.on('error', (err) => logger.warn({ err, queue: name }, 'queue error'));
        return [name, { queue, halt: new QueueHalt({ queue, redis, prefix, logger }) }];
      }),
    );
  }

  all(): Queue[] {
    return [...this.#queues.values()].map((entry) => entry.queue);
  }

  get(name: string): Queue | undefined {
    return this.#queues.get(name as QueueName)?.queue;
  }

  /** Why Atelier itself paused the queue, if it did. */
  async halt(name: string): Promise<HaltRecord | undefined> {
    return this.#queues.get(name as QueueName)?.halt.status();
  }

  /** Clears the halt record (if any) and resumes the queue. */
  async resume(name: string): Promise<void> {
    this.#require(name);
    await this.#queues.get(name as QueueName)?.halt.resume();
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
