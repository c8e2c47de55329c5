import { AtelierError } from '@atelier/shared';

/**
 * Redis did not answer in time or is not connected: try again later. `sent` says whether the
 * call had been handed to Redis (it may still be carried out: an answer that timed out, a
 * connection lost after writing); an error without it changed nothing.
 */
export class RedisUnavailableError extends AtelierError {
  override name = 'RedisUnavailableError';
  /** The call was sent: its outcome is unknown. */
  readonly sent: boolean;

  constructor(
    reason: string,
    cause?: unknown,
    options: { sent?: boolean; message?: string; details?: Record<string, unknown> } = {},
  ) {
    super(options.message ?? `Redis is unavailable (${reason}); try again shortly`, {
      code: 'REDIS_UNAVAILABLE',
      retryable: true,
      retryAfterMs: 1000,
      ...(cause !== undefined ? { cause } : {}),
      ...(options.details ? { details: options.details } : {}),
    });
    this.sent = options.sent ?? false;
  }

  /**
   * The error for an enqueue whose write was sent but not confirmed: the job `id` may exist
   * now or a moment later (`details: {outcome: 'unknown', id}`), so a caller without an
   * idempotency key looks it up before sending the request again.
   */
  static outcomeUnknown(
    what: string,
    id: string,
    cause: RedisUnavailableError,
  ): RedisUnavailableError {
    return new RedisUnavailableError('unconfirmed write', cause, {
      sent: true,
      message: `Redis did not confirm the write (${cause.message}); ${what} ${id} may have been queued: look it up by its id before sending it again without an idempotencyKey`,
      details: { outcome: 'unknown', id },
    });
  }
}
