import { AtelierError } from '@atelier/shared';

/**
 * A write refused because the worker making it no longer holds the job's BullMQ lock (it
 * expired while the worker was cut off or stalled, and another worker may own the job now).
 * Not a failure of the job: the run that gets it stops without writing anything more.
 */
export class LockLostError extends AtelierError {
  override name = 'LockLostError';

  constructor(jobId: string, what: string) {
    super(`lost the lock of job ${jobId}: ${what} refused (another worker may have the job)`, {
      code: 'LOCK_LOST',
    });
  }
}

/** True for a `LockLostError`, also from another realm (classified by name and code). */
export function isLockLost(error: unknown): error is LockLostError {
  return (
    error instanceof Error &&
    error.name === 'LockLostError' &&
    (error as { code?: unknown }).code === 'LOCK_LOST'
  );
}
