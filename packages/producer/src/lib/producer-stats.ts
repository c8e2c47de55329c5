import type { BatchLedger, DeadLetterStore } from '@atelier/store';
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
  /** Batches not finished yet. */
  openBatches: number;
  deadLettersByCode: Record<string, number>;
}

/** Queue-level figures for metrics and dashboards, read in a few round trips. */
export async function readProducerStats(
  queues: ProducerQueues,
  deadLetters: DeadLetterStore,
  ledger: BatchLedger,
  guard: RedisGuard,
): Promise<ProducerStats> {
  const [counts, deadLettersByCode, openBatches] = await guard.run(() =>
    Promise.all([
      Promise.all(queues.all().map((q) => q.getJobCounts(...COUNTED_STATES))),
      deadLetters.countByCode(),
      ledger.openCount(),
    ]),
  );
  const byQueue: ProducerStats['queues'] = {};
  queues.all().forEach((q, i) => {
    byQueue[q.name] = counts[i] ?? {};
  });
  return { queues: byQueue, openBatches, deadLettersByCode };
}
