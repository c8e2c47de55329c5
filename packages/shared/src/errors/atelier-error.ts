import { scrubUrl } from '../secret.ts';

export interface AtelierErrorOptions {
  /** Stable, machine-readable code (`POLL_TIMEOUT`, `202`, `AuthFailure.SessionInvalid`, …). */
  code: string;
  /** Whether trying the same thing again may succeed. */
  retryable?: boolean;
  /** A hint for when to try again, when the cause tells us. */
  retryAfterMs?: number;
  cause?: unknown;
  /** Extra data safe to log and to show callers. */
  details?: Record<string, unknown>;
}

/**
 * Base of every error Atelier raises on purpose. Classify by `code` and `name` (they survive
 * serialisation into BullMQ and across processes), not only by `instanceof`.
 * Messages are scrubbed of secret query parameters on construction.
 */
export class AtelierError extends Error {
  override name = 'AtelierError';
  readonly code: string;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, options: AtelierErrorOptions) {
    super(scrubUrl(message));
    this.code = options.code;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
    if (options.cause !== undefined) {
      // Non-enumerable: loggers and JSON never walk into raw causes (they may hold requests).
      Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false });
    }
  }
}

/** True for any error carrying an Atelier-style string `code`, whatever realm it came from. */
export function hasCode(error: unknown): error is Error & { code: string } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
}
