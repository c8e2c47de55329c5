import { AtelierError } from '@atelier/shared';

/**
 * A dead letter whose job is not failed (a worker is still filing it), or that another replay or
 * delete is acting on (`replaying`): nothing was changed.
 */
export class ReplayConflictError extends AtelierError {
  override name = 'ReplayConflictError';

  constructor(id: string, state: string) {
    super(`the job of dead letter ${id} is ${state}, not failed: try again shortly`, {
      code: 'REPLAY_CONFLICT',
      retryAfterMs: 1000,
      details: { id, state },
    });
  }
}
