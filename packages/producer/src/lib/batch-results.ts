import type { BatchItemResult, BatchLedger } from '@atelier/store';
import { batchItemJobId } from './batch-id.ts';
import { NotFoundError } from './errors/not-found-error.ts';
import type { RedisGuard } from './redis-guard.ts';

const PAGE = 1000;

/**
 * One result line per item of a batch, in input order, read from the ledger a page at a
 * time (a 100k-item batch never sits in memory at once). Items not settled yet are `pending`.
 */
export async function* batchResults(
  ledger: BatchLedger,
  guard: RedisGuard,
  id: string,
): AsyncGenerator<BatchItemResult> {
  const info = await guard.run(() => ledger.get(id));
  if (!info) throw new NotFoundError('batch', id);
  for (let from = 0; from < info.total; from += PAGE) {
    const count = Math.min(PAGE, info.total - from);
    const rows = await guard.run(() => ledger.results(id, from, count));
    for (let i = 0; i < count; i++) {
      const index = from + i;
      yield rows[i] ?? { index, jobId: batchItemJobId(id, index), state: 'pending' };
    }
  }
}
