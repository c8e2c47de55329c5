import { AtelierError } from '@atelier/shared';

/**
 * A job that can no longer be cancelled: `ALREADY_SUBMITTED` — the provider was (or may have
 * been) paid: the job finishes and keeps its result — or `ALREADY_FINISHED` (completed or dead).
 * Nothing was changed.
 */
export class CancelConflictError extends AtelierError {
  override name = 'CancelConflictError';

  constructor(id: string, reason: 'submitted' | 'finished') {
    super(
      reason === 'submitted'
        ? `job ${id} was already submitted to the provider: the money is spent, so it is not cancelled; it finishes and keeps its result`
        : `job ${id} already ended (completed or dead): there is nothing left to cancel`,
      {
        code: reason === 'submitted' ? 'ALREADY_SUBMITTED' : 'ALREADY_FINISHED',
        details: { id },
      },
    );
  }
}
