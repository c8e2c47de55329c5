import { AtelierError } from '@atelier/shared';

/**
 * A request an API key of a tenant may not make (an admin route, another tenant's filter).
 * Ids are never refused this way: another tenant's id is `NOT_FOUND`.
 */
export class ForbiddenError extends AtelierError {
  override name = 'ForbiddenError';

  constructor(message: string, details?: Record<string, unknown>) {
    super(message, { code: 'FORBIDDEN', ...(details ? { details } : {}) });
  }
}
