import { LockLostError } from '@atelier/store';
import type { Worker } from 'bullmq';

/** The reason a run's signal is aborted with when its job's lock could not be renewed. */
const LOCK_LOST_REASON = 'lock lost: BullMQ could not renew the job lock';

/**
 * Aborts the run of every job whose lock BullMQ could not renew (BullMQ 6.7 only emits
 * `lockRenewalFailed`; it does not abort the processor's signal itself): its provider calls
 * stop, and the step runner ends it without writing (another worker may have the job).
 */
export function abortOnLockLoss(worker: Worker): void {
  worker.on('lockRenewalFailed', (jobIds: string[]) => {
    for (const id of jobIds) worker.cancelJob(id, LOCK_LOST_REASON);
  });
}

/** The run's `LockLostError` when its signal was aborted by `abortOnLockLoss`. */
export function lockLostSignal(
  signal: AbortSignal | undefined,
  jobId: string,
): LockLostError | undefined {
  if (!signal?.aborted || signal.reason !== LOCK_LOST_REASON) return undefined;
  return new LockLostError(jobId, 'renewing its lock');
}
