import { AtelierError } from '@atelier/shared';

/** Redis did not answer in time or is not connected: nothing was changed, try again later. */
export class RedisUnavailableError extends AtelierError {
  override name = 'RedisUnavailableError';

  constructor(reason: string, cause?: unknown) {
    super(`Redis is unavailable (${reason}); try again shortly`, {
      code: 'REDIS_UNAVAILABLE',
      retryable: true,
      retryAfterMs: 1000,
      ...(cause !== undefined ? { cause } : {}),
    });
  }
}
