import {
  type AnyJobData,
  AtelierError,
  atelierKeys,
  type Logger,
  parseFailedReason,
} from '@atelier/shared';
import type { BatchLedger, DeadLetterStore, RedisClient } from '@atelier/store';
import type { Job, Queue } from 'bullmq';
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
 * failed job that has no entry. Insertion is idempotent, so overlapping runs are harmless.
 */
export class DeadLetterReconciler {
  readonly #o: Required<Omit<DeadLetterReconcilerOptions, 'batches'>> &
    Pick<DeadLetterReconcilerOptions, 'batches'>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;

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
    const tick = () => {
      this.run()
        .catch((err) => this.#o.logger.error({ err }, 'dead-letter reconciliation failed'))
        .finally(() => {
          if (this.#timer) this.#timer = setTimeout(tick, intervalMs).unref();
        });
    };
    this.#timer = setTimeout(tick, 0).unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  async #runAll(): Promise<number> {
    let added = 0;
    for (const queue of this.#o.queues) added += await this.#reconcile(queue);
    if (Number.isFinite(this.#o.deadLetterMaxAgeMs)) {
      const purged = await this.#o.deadLetters.purgeOlderThan(
        Date.now() - this.#o.deadLetterMaxAgeMs,
      );
      if (purged > 0) this.#o.logger.info({ purged }, 'purged dead letters past their retention');
    }
    if (this.#o.batches && Number.isFinite(this.#o.batchMaxAgeMs)) {
      const upkeep = await this.#o.batches.upkeep(Date.now() - this.#o.batchMaxAgeMs);
      if (upkeep && (upkeep.pruned > 0 || upkeep.repaired > 0)) {
        this.#o.logger.info(upkeep, 'batch upkeep: expired batches dropped from the index');
      }
    }
    return added;
  }

  async #reconcile(queue: Queue): Promise<number> {
    const watermarkKey = atelierKeys(this.#o.prefix).deadLetters.watermark(queue.name);
    const watermark = Number((await this.#o.redis.get(watermarkKey)) ?? 0);
    let newest = watermark;
    let added = 0;
    for (let start = 0; ; start += PAGE_SIZE) {
      const jobs = (await queue.getFailed(start, start + PAGE_SIZE - 1)) as Job<AnyJobData>[];
      if (jobs.length === 0) break;
      let reachedWatermark = false;
      for (const job of jobs) {
        if (!job?.id) continue;
        const finishedOn = job.finishedOn ?? 0;
        newest = Math.max(newest, finishedOn);
        if (finishedOn < watermark - OVERLAP_MS) {
          reachedWatermark = true;
          break;
        }
        if (await this.#o.deadLetters.has(job.id)) continue;
        if (job.data?.kind !== 'drawing' && job.data?.kind !== 'cme') continue;
        const { code, message } = parseFailedReason(job.failedReason);
        const error = new AtelierError(message, { code });
        await this.#o.settlement.dead(job, error, job.data.history ?? [], job.attemptsMade);
        added++;
        this.#o.logger.warn(
          { jobId: job.id, queue: queue.name, code },
          'reconciled a failed job into the dead-letter queue',
        );
      }
      if (reachedWatermark || jobs.length < PAGE_SIZE) break;
    }
    if (newest > watermark) await this.#o.redis.set(watermarkKey, String(newest));
    return added;
  }
}
