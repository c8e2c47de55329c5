import { AtelierError } from '@atelier/shared';

/** A job, batch or dead letter that does not exist (or no longer does). */
export class NotFoundError extends AtelierError {
  override name = 'NotFoundError';

  constructor(what: 'job' | 'batch' | 'dead letter', id: string) {
    super(`${what} ${id} not found`, { code: 'NOT_FOUND', details: { what, id } });
  }
}
