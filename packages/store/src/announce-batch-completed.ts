import type { Logger } from '@atelier/shared';
import { type BatchInfo, type BatchLedger, isBatchFinished } from './batch-ledger.ts';
import type { CallbackScheduler } from './callback-scheduler.ts';

/**
 * What happens when a batch finishes (`completed`, `incomplete` with the items never queued
 * listed, or `cancelled`), wherever it finished: in the worker that settled its last item, or in the API
 * process that counted its last chunk or closed its cut-off enqueue after every item had settled.
 * Logs it, schedules the `batch.completed` callback and notes that it did. The delivery id
 * carries `completedAt`: a batch reopened by a replay and finished again calls back again.
 *
 * `finishedAt`: the time of the call that just finished the batch. Without it (a repeated
 * settle or submission that found the batch finished) the completion is announced only if the
 * process that finished it died before noting the announcement, and only if it is still
 * finished (not reopened by a replay meanwhile).
 */
export async function announceBatchCompleted(
  batchId: string,
  deps: { callbacks: CallbackScheduler; ledger: BatchLedger; logger: Logger },
  finishedAt?: number,
): Promise<void> {
  const read = await deps.ledger.get(batchId);
  if (!read) return;
  // Just finished here: announced as it finished, even if a replay reopened it since.
  const batch: BatchInfo =
    finishedAt === undefined ? read : { ...read, state: endedAs(read), completedAt: finishedAt };
  const { completedAt } = batch;
  if (!isBatchFinished(batch.state) || completedAt === undefined) return;
  const again = finishedAt === undefined;
  if (again && (await deps.ledger.wasAnnounced(batchId, completedAt))) return;
  deps.logger.info(
    {
      batchId,
      tenant: batch.tenant,
      total: batch.total,
      dead: batch.dead,
      cancelled: batch.cancelled,
      state: batch.state,
      again,
    },
    batch.state === 'cancelled' ? 'batch cancelled' : 'batch completed',
  );
  if (batch.callbackUrl) {
    const body = {
      event: 'batch.completed',
      id: batchId,
      tenant: batch.tenant,
      total: batch.total,
      completed: batch.completed,
      dead: batch.dead,
      cancelled: batch.cancelled,
      pending: batch.pending,
      state: batch.state,
      ...(batch.notQueued ? { notQueued: batch.notQueued } : {}),
    };
    await deps.callbacks.schedule(
      batch.callbackUrl,
      'batch.completed',
      body,
      `${batchId}.batch.${completedAt}`,
    );
  }
  await deps.ledger.markAnnounced(batchId, completedAt);
}

/** The state a batch read after it finished ended in (a replay may have reopened it since). */
function endedAs(read: BatchInfo): BatchInfo['state'] {
  if (read.state === 'cancelling' || read.state === 'cancelled') return 'cancelled';
  return read.notQueued ? 'incomplete' : 'completed';
}
