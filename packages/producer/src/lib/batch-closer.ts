import { atelierKeys, type Logger } from '@atelier/shared';
import {
  announceBatchCompleted,
  type BatchLedger,
  type CallbackScheduler,
  type RedisClient,
  RedisLease,
} from '@atelier/store';
import { batchItemJobId } from './batch-id.ts';
import type { ProducerQueues } from './producer-queues.ts';

export interface BatchCloserOptions {
  readonly ledger: BatchLedger;
  readonly queues: ProducerQueues;
  readonly redis: RedisClient;
  readonly completions: CallbackScheduler;
  readonly logger: Logger;
  readonly prefix: string;
  /** The enqueue lease's time; an enqueue idle this long, its lease free, was abandoned. */
  readonly leaseMs: number;
}

/** Reading the uncounted window again when an enqueuer moved it meanwhile: a few times at most. */
const MAX_TRIES = 3;

/**
 * Ends the enqueue of a batch without an idempotency key that was cut off part-way (its
 * enqueuer died, or gave up when Redis went away): nobody can resume such a batch (a retry
 * makes a new one), so instead of staying open forever it is closed — the items that made it
 * into the queue run, the others are listed as not queued, and the batch ends `incomplete`
 * (with its `batch.completed` callback) once the queued ones settled.
 *
 * Closing takes the batch's enqueue lease, so it never races a live enqueuer (which checks the
 * lease before every chunk it sends). Items sent but not counted yet are looked up: queued if
 * their job exists. An add sent by a process that has since died has landed or never will;
 * one still pending in a live process is waited for by that process before it closes.
 */
export class BatchCloser {
  readonly #o: BatchCloserOptions;

  constructor(options: BatchCloserOptions) {
    this.#o = options;
  }

  /**
   * Closes the batch's enqueue with the lease (held by the caller, e.g. an enqueuer that gave
   * up). True when it was closed now.
   */
  async close(id: string, lease: { token: string }): Promise<boolean> {
    const { ledger, queues } = this.#o;
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const window = await ledger.uncounted(id);
      if (!window) return false;
      const jobKeys: string[] = [];
      for (let i = window.from; i < window.to; i++) {
        jobKeys.push(queues.drawing.toKey(batchItemJobId(id, i)));
      }
      const result = await ledger.cut(id, lease.token, { from: window.from, jobKeys });
      if (result.status === 'moved') continue;
      if (result.status !== 'closed') return false;
      const batch = await ledger.get(id);
      this.#o.logger.warn(
        { batchId: id, enqueued: batch?.enqueued, total: batch?.total },
        'batch enqueue cut off: closed, the items not queued are listed',
      );
      if (result.finishedAt !== undefined) await this.#announce(id, result.finishedAt);
      return true;
    }
    return false;
  }

  /**
   * Closes every batch without an idempotency key whose enqueue made no progress for a lease's
   * time and whose lease is free (its enqueuer is gone). Returns their ids.
   */
  async closeAbandoned(): Promise<string[]> {
    const { ledger, redis, prefix, leaseMs } = this.#o;
    const closed: string[] = [];
    for (const id of await ledger.stalled(Date.now() - leaseMs)) {
      const key = atelierKeys(prefix).batch.enqueueLease(id);
      const lease = await RedisLease.acquire(redis, key, leaseMs);
      if (!lease) continue; // an enqueuer is still at it
      try {
        if (await this.close(id, lease)) closed.push(id);
      } finally {
        await lease.release().catch(() => undefined);
      }
    }
    return closed;
  }

  #announce(batchId: string, finishedAt: number): Promise<void> {
    const { completions, ledger, logger } = this.#o;
    return announceBatchCompleted(batchId, { callbacks: completions, ledger, logger }, finishedAt);
  }
}
