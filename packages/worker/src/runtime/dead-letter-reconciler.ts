import {
  type AnyJobData,
  AtelierError,
  atelierKeys,
  type Logger,
  parseFailedReason,
} from '@atelier/shared';
import type { BatchLedger, DeadLetterStore, RedisClient } from '@atelier/store';
import type { Job, Queue } from 'bullmq';
import { jobEnvelopeProblem } from './job-envelope.ts';
import type { JobSettlement } from './job-settlement.ts';

export interface DeadLetterReconcilerOptions {
  queues: Queue[];
  deadLetters: DeadLetterStore;
  settlement: JobSettlement;
  redis: RedisClient;
  prefix: string;
  logger: Logger;
  /** Dead letters older than this are purged (`ATELIER_DEAD_LETTER_AGE_SEC`); unset: kept. */
  deadLetterMaxAgeMs?: number;
  /** The batches to keep up: index pruning, open-set repair (`batchMaxAgeMs`). */
  batches?: BatchLedger;
  /**
   * Finished batches expire this long after they finish (`ATELIER_KEEP_BATCH_AGE_SEC`, a TTL
   * the ledger sets); index entries of batches created longer ago whose record is gone are
   * dropped. Unset: the index is not pruned.
   */
  batchMaxAgeMs?: number;
}

/** Page size when walking a failed set. */
const PAGE_SIZE = 500;

/** Jobs finished this long before the watermark are read again (clock skew between workers). */
const OVERLAP_MS = 60_000;

/**
 * Keeps the invariant "every job that will not run again is completed or dead-lettered, once"
 * even when a worker died between BullMQ recording a failure and our insert: walks each
 * queue's failed set (newest first, down to a watermark kept in Redis) and dead-letters any
 * failed job that has no entry. Each filing checks, in the same script as the insert, that the
 * job is still failed as it was read (a job replayed, retried or deleted meanwhile is left
 * alone), so overlapping runs are harmless. A job that cannot be filed (a malformed envelope,
 * unreadable data) is logged and passed over: the pass goes on, and so do the purge of old
 * dead letters and the batch upkeep.
 */
export class DeadLetterReconciler {
  readonly #o: Required<Omit<DeadLetterReconcilerOptions, 'batches'>> &
    Pick<DeadLetterReconcilerOptions, 'batches'>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #stopping = false;

  constructor(options: DeadLetterReconcilerOptions) {
    this.#o = {
      deadLetterMaxAgeMs: Number.POSITIVE_INFINITY,
      batchMaxAgeMs: Number.POSITIVE_INFINITY,
      ...options,
    };
  }

  /** One pass over every queue; returns how many dead letters it had to add. */
  async run(): Promise<number> {
    this.#running ??= this.#runAll().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  start(intervalMs: number): void {
    this.#stopping = false;
    const tick = () => {
      this.run()
        .catch((err) => this.#o.logger.error({ err }, 'dead-letter reconciliation failed'))
        .finally(() => {
          if (this.#timer) this.#timer = setTimeout(tick, intervalMs).unref();
        });
    };
    this.#timer = setTimeout(tick, 0).unref();
  }

  /** No more passes; a pass under way stops at its next job (this waits for it). */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
    this.#stopping = false;
  }

  async #runAll(): Promise<number> {
    const { logger } = this.#o;
    let added = 0;
    try {
      // Once per deployment: letters filed before they were indexed by tenant.
      await this.#o.deadLetters.indexTenants();
    } catch (err) {
      logger.error({ err }, 'could not index dead letters by tenant; carrying on');
    }
    for (const queue of this.#o.queues) {
      try {
        added += await this.#reconcile(queue);
      } catch (err) {
        logger.error({ err, queue: queue.name }, 'could not reconcile a queue; carrying on');
      }
    }
    if (Number.isFinite(this.#o.deadLetterMaxAgeMs) && !this.#stopping) {
      try {
        const purged = await this.#o.deadLetters.purgeOlderThan(
          Date.now() - this.#o.deadLetterMaxAgeMs,
        );
        if (purged > 0) logger.info({ purged }, 'purged dead letters past their retention');
      } catch (err) {
        logger.error({ err }, 'could not purge old dead letters; carrying on');
      }
    }
    if (this.#o.batches && Number.isFinite(this.#o.batchMaxAgeMs) && !this.#stopping) {
      try {
        const upkeep = await this.#o.batches.upkeep(Date.now() - this.#o.batchMaxAgeMs);
        if (upkeep && (upkeep.pruned > 0 || upkeep.repaired > 0)) {
          logger.info(upkeep, 'batch upkeep: expired batches dropped from the index');
        }
      } catch (err) {
        logger.error({ err }, 'batch upkeep failed; carrying on');
      }
    }
    return added;
  }

  /** Files the queue's failed jobs that lack a dead letter, newest first down to the watermark. */
  async #reconcile(queue: Queue): Promise<number> {
    const { redis } = this.#o;
    const watermarkKey = atelierKeys(this.#o.prefix).deadLetters.watermark(queue.name);
    const watermark = Number((await redis.get(watermarkKey)) ?? 0);
    const failedKey = queue.toKey('failed');
    let newest = watermark;
    let added = 0;
    for (let start = 0; !this.#stopping; start += PAGE_SIZE) {
      // BullMQ scores its failed set by `finishedOn`.
      const page = await redis.zrevrange(failedKey, start, start + PAGE_SIZE - 1, 'WITHSCORES');
      if (page.length === 0) break;
      let reachedWatermark = false;
      for (let i = 0; i < page.length && !this.#stopping; i += 2) {
        const id = page[i] as string;
        const finishedOn = Number(page[i + 1]);
        newest = Math.max(newest, finishedOn);
        if (finishedOn < watermark - OVERLAP_MS) {
          reachedWatermark = true;
          break;
        }
        if (await this.#o.deadLetters.has(id)) continue;
        if (await this.#file(queue, id)) added++;
      }
      if (reachedWatermark || page.length < 2 * PAGE_SIZE) break;
    }
    if (newest > watermark) await redis.set(watermarkKey, String(newest));
    return added;
  }

  /** Files one failed job; false when it cannot or need not be (logged), never throws. */
  async #file(queue: Queue, id: string): Promise<boolean> {
    const { logger } = this.#o;
    try {
      const job = (await queue.getJob(id)) as Job<AnyJobData> | undefined;
      // Removed since the page was read (a dead letter deleted, retention).
      if (!job) return false;
      const problem = jobEnvelopeProblem(job.data);
      if (problem) {
        logger.error(
          { jobId: id, queue: queue.name, problem },
          `a failed job cannot be dead-lettered: malformed job data (${problem}); left in the failed set`,
        );
        return false;
      }
      const { code, message } = parseFailedReason(job.failedReason);
      const filed = await this.#o.settlement.dead(
        job,
        new AtelierError(message, { code }),
        job.data.history ?? [],
        job.attemptsMade,
        {
          failedKey: queue.toKey('failed'),
          jobKey: queue.toKey(id),
          finishedOn: job.finishedOn ?? 0,
          attemptsMade: job.attemptsMade,
        },
      );
      // Replayed, retried or removed between the read and the filing: not ours to file.
      if (!filed) return false;
      logger.warn(
        { jobId: id, queue: queue.name, code },
        'reconciled a failed job into the dead-letter queue',
      );
      return true;
    } catch (err) {
      logger.error(
        { err, jobId: id, queue: queue.name },
        'could not reconcile a failed job; carrying on',
      );
      return false;
    }
  }
}
