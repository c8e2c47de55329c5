import { AtelierError } from '@atelier/shared';

/**
 * A pause, resume or cancel the batch's state does not allow: `BATCH_FINISHED` (it completed:
 * nothing left to steer) or `BATCH_CANCELLED` (a cancelled batch cannot be paused or resumed).
 * Nothing was changed.
 */
export class BatchStateError extends AtelierError {
  override name = 'BatchStateError';

  constructor(id: string, action: 'pause' | 'resume' | 'cancel', state: string) {
    const cancelled = state === 'cancelling' || state === 'cancelled';
    super(
      cancelled
        ? `batch ${id} is ${state}: it cannot be ${action === 'pause' ? 'paused' : 'resumed'}`
        : `batch ${id} is ${state}: there is nothing left to ${action}`,
      { code: cancelled ? 'BATCH_CANCELLED' : 'BATCH_FINISHED', details: { id, state } },
    );
  }
}
