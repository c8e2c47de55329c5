import { AtelierError } from '@atelier/shared';

/** A job, batch, dead letter or archived image that does not exist (or no longer does). */
export class NotFoundError extends AtelierError {
  override name = 'NotFoundError';

  constructor(what: 'job' | 'batch' | 'dead letter' | 'image', id: string, why?: string) {
    super(`${what} ${id} not found${why ? `: ${why}` : ''}`, {
      code: 'NOT_FOUND',
      details: { what, id },
    });
  }
}
