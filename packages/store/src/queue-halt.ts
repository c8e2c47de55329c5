import { createHash } from 'node:crypto';
import { type AtelierError, atelierKeys, type Logger } from '@atelier/shared';
import type { Queue } from 'bullmq';
import type { RedisClient } from './redis.ts';

export interface HaltRecord {
  queue: string;
  code: string;
  message: string;
  at: number;
  /** Fingerprint of the credentials in use when the queue halted (never the credentials). */
  credentials: string;
}

/**
 * Pauses a queue when the provider says our configuration is wrong (bad signature, quota used
 * up): jobs stay queued, nothing is dead-lettered one by one. The reason is kept in Redis for
 * operators; a worker started with different credentials resumes the queue by itself.
 */
export class QueueHalt {
  readonly #queue: Queue;
  readonly #redis: RedisClient;
  readonly #key: string;
  readonly #logger: Logger;
  readonly #fingerprint: string;

  constructor(options: {
    queue: Queue;
    redis: RedisClient;
    prefix: string;
    logger: Logger;
    /** Material for the fingerprint (never stored as such); only the worker halts queues. */
    credentials?: string[];
  }) {
    this.#queue = options.queue;
    this.#redis = options.redis;
    this.#key = atelierKeys(options.prefix).halt(options.queue.name);
    this.#logger = options.logger;
    this.#fingerprint = fingerprint(options.credentials ?? []);
  }

  async halt(error: AtelierError): Promise<void> {
    const record: HaltRecord = {
      queue: this.#queue.name,
      code: error.code,
      message: error.message,
      at: Date.now(),
      credentials: this.#fingerprint,
    };
    const first = await this.#redis.set(this.#key, JSON.stringify(record), 'NX');
    await this.#queue.pause();
    if (first === 'OK') {
      this.#logger.fatal(
        { queue: this.#queue.name, code: error.code, err: error },
        `QUEUE "${this.#queue.name}" PAUSED: the provider rejected our configuration (${error.code}). ` +
          'Jobs are kept. Fix the credentials/account and restart the workers, or resume the queue.',
      );
    }
  }

  /** The record, if the queue is halted (an unreadable record reads as code `UNKNOWN`). */
  async status(): Promise<HaltRecord | undefined> {
    const json = await this.#redis.get(this.#key);
    if (!json) return undefined;
    try {
      const record = JSON.parse(json) as Partial<HaltRecord>;
      return {
        queue: String(record.queue ?? this.#queue.name),
        code: String(record.code ?? 'UNKNOWN'),
        message: String(record.message ?? ''),
        at: Number(record.at ?? 0),
        credentials: String(record.credentials ?? ''),
      };
    } catch {
      return {
        queue: this.#queue.name,
        code: 'UNKNOWN',
        message: 'unreadable halt record',
        at: 0,
        credentials: '',
      };
    }
  }

  /** Clears the halt and resumes the queue (operator action, or new credentials). */
  async resume(): Promise<void> {
    await this.#redis.del(this.#key);
    await this.#queue.resume();
  }

  /** At start-up: resume a queue halted under other credentials; warn if still halted. */
  async resumeIfCredentialsChanged(): Promise<boolean> {
    const record = await this.status();
    if (!record) return false;
    if (record.credentials !== this.#fingerprint) {
      this.#logger.warn(
        { queue: record.queue, code: record.code },
        'credentials changed since the queue halted: resuming',
      );
      await this.resume();
      return true;
    }
    this.#logger.error(
      { queue: record.queue, code: record.code, since: new Date(record.at).toISOString() },
      `queue "${record.queue}" is still paused: ${record.message}`,
    );
    return false;
  }
}

function fingerprint(credentials: string[]): string {
  return createHash('sha256').update(credentials.join('\u0000')).digest('hex').slice(0, 16);
}
