import { AtelierError } from '@atelier/shared';

/**
 * An idempotency key reused for a request that cannot be the same one (a batch with other items
 * or options, or one retention removed). `details` name the field and the key.
 */
export class IdempotencyConflictError extends AtelierError {
  override name = 'IdempotencyConflictError';

  constructor(message: string, details: Record<string, unknown>) {
    super(message, { code: 'IDEMPOTENCY_CONFLICT', details });
  }
}
