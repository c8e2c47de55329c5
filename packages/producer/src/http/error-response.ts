import { AtelierError, hasCode, ValidationError } from '@atelier/shared';

/** Every error code the HTTP API answers with, and its status. */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  BAD_REQUEST: 400,
  CALLBACKS_DISABLED: 400,
  CALLBACK_URL_REFUSED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  IDEMPOTENCY_CONFLICT: 409,
  REPLAY_CONFLICT: 409,
  ALREADY_SUBMITTED: 409,
  ALREADY_FINISHED: 409,
  BATCH_FINISHED: 409,
  BATCH_CANCELLED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  TOO_MANY_BATCH_UPLOADS: 429,
  QUOTA_EXCEEDED: 429,
  INTERNAL: 500,
  REDIS_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
} as const;

export type ApiErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  error: { code: ApiErrorCode; message: string; details?: unknown };
}

export interface ErrorReply {
  statusCode: number;
  headers: Record<string, string>;
  body: ErrorBody;
}

/** Codes whose answer says when to try again (`Retry-After`, whole seconds). */
const RETRY_AFTER_CODES: ReadonlySet<ApiErrorCode> = new Set([
  'RATE_LIMITED',
  'TOO_MANY_BATCH_UPLOADS',
  'QUOTA_EXCEEDED',
  'REDIS_UNAVAILABLE',
  'REPLAY_CONFLICT',
  'SHUTTING_DOWN',
]);

/** Fastify's own errors, by code. */
const FASTIFY_CODES: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
};

/** An error the HTTP layer raises itself (authentication, limits, media types). */
export function apiError(
  code: ApiErrorCode,
  message: string,
  options: { retryAfterMs?: number; details?: Record<string, unknown> } = {},
): AtelierError {
  return new AtelierError(message, { code, ...options });
}

/**
 * THE mapping from anything thrown while serving a request to `{error: {code, message,
 * details?}}` and a status. Unknown errors become `INTERNAL` without their message.
 */
export function errorResponse(error: unknown): ErrorReply {
  const headers: Record<string, string> = {};
  const reply = (code: ApiErrorCode, message: string, details?: unknown): ErrorReply => {
    const body: ErrorBody = { error: { code, message } };
    if (details !== undefined) body.error.details = details;
    return { statusCode: ERROR_STATUS[code], headers, body };
  };

  if (error instanceof ValidationError) {
    return reply('VALIDATION_FAILED', error.message, error.issues);
  }
  if (hasCode(error)) {
    const fastifyCode = FASTIFY_CODES[error.code];
    if (fastifyCode) return reply(fastifyCode, fastifyMessage(fastifyCode, error.message));
    if (error.code in ERROR_STATUS) {
      const code = error.code as ApiErrorCode;
      const retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs;
      if (RETRY_AFTER_CODES.has(code) && retryAfterMs !== undefined) {
        headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
      }
      if (code === 'UNAUTHORIZED') headers['www-authenticate'] = 'Bearer';
      const details = error instanceof AtelierError ? error.details : undefined;
      return reply(code, error.message, details);
    }
    const status = (error as { statusCode?: unknown }).statusCode;
    if (
      error.code.startsWith('FST_') &&
      typeof status === 'number' &&
      status >= 400 &&
      status < 500
    ) {
      return { ...reply('BAD_REQUEST', error.message), statusCode: status };
    }
  }
  return reply('INTERNAL', 'internal error');
}

function fastifyMessage(code: ApiErrorCode, original: string): string {
  switch (code) {
    case 'MALFORMED_JSON':
      return 'the request body is not valid JSON';
    case 'PAYLOAD_TOO_LARGE':
      return 'the request body is larger than ATELIER_BODY_LIMIT_BYTES allows';
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 'unsupported Content-Type: send application/json (or application/x-ndjson to /v1/batches)';
    default:
      return original;
  }
}
