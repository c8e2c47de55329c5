import type { BatchItemResult, BatchLedger } from '@atelier/store';
import { batchItemJobId } from './batch-id.ts';
import { NotFoundError } from './errors/not-found-error.ts';
import type { RedisGuard } from './redis-guard.ts';

const PAGE = 1000;

/**
 * One result line per item of a batch, in input order, read from the ledger a page at a
 * time (a 100k-item batch never sits in memory at once). Items not settled yet are `pending`;
 * items of a batch whose enqueue was cut off that never reached the queue are `not_queued`.
 * Each page is read together with the batch record (one `MULTI`): a batch that expires while
 * it is read ends the stream with `NotFoundError`, never with lines that say `pending`.
 */
export async function* batchResults(
  ledger: BatchLedger,
  guard: RedisGuard,
  id: string,
): AsyncGenerator<BatchItemResult> {
  let total = 0;
  let from = 0;
  do {
    const page = await guard.run(() => ledger.page(id, from, PAGE));
    if (!page) throw new NotFoundError('batch', id);
    total = page.batch.total;
    const notQueued = page.batch.notQueued ?? [];
    const count = Math.min(PAGE, total - from);
    for (let i = 0; i < count; i++) {
      const index = from + i;
      const line = page.lines[i];
      if (line) {
        yield line;
        continue;
      }
      const queued = !notQueued.some((r) => index >= r.first && index <= r.last);
      yield { index, jobId: batchItemJobId(id, index), state: queued ? 'pending' : 'not_queued' };
    }
    from += PAGE;
  } while (from < total);
}
