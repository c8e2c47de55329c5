import { atelierKeys, type DeadLetterStore, type RedisClient } from '@atelier/shared';
import type { ProducerQueues } from './producer-queues.ts';
import type { RedisGuard } from './redis-guard.ts';

/** BullMQ job states counted per queue. */
export const COUNTED_STATES = [
  'waiting',
  'prioritized',
  'active',
  'delayed',
  'waiting-children',
  'completed',
  'failed',
] as const;

export interface ProducerStats {
  /** Jobs per queue and BullMQ state. */
  queues: Record<string, Record<string, number>>;
  /** Batches not completed yet (among the newest `OPEN_BATCH_SCAN`). */
  openBatches: number;
  deadLettersByCode: Record<string, number>;
}

/** Open batches are counted among this many newest batches (older ones are all but done). */
export const OPEN_BATCH_SCAN = 10_000;

/** Queue-level figures for metrics and dashboards, read in a few round trips. */
export async function readProducerStats(
  queues: ProducerQueues,
  deadLetters: DeadLetterStore,
  redis: RedisClient,
  prefix: string,
  guard: RedisGuard,
): Promise<ProducerStats> {
  const keys = atelierKeys(prefix).batch;
  const [counts, deadLettersByCode, batchIds] = await guard.run(() =>
    Promise.all([
      Promise.all(queues.all().map((q) => q.getJobCounts(...COUNTED_STATES))),
      deadLetters.countByCode(),
      redis.zrevrange(keys.index, 0, OPEN_BATCH_SCAN - 1),
    ]),
  );
  let openBatches = 0;
  if (batchIds.length > 0) {
    const states = await guard.run(() => {
      const pipeline = redis.pipeline();
      for (const id of batchIds) pipeline.hget(keys.meta(id), 'state');
      return pipeline.exec();
    });
    for (const [, state] of states ?? []) if (state === 'open') openBatches++;
  }
  const byQueue: ProducerStats['queues'] = {};
  queues.all().forEach((q, i) => {
    byQueue[q.name] = counts[i] ?? {};
  });
  return { queues: byQueue, openBatches, deadLettersByCode };
}
