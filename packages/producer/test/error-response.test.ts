import { AtelierError, ValidationError } from '@atelier/shared';
import { describe, expect, it } from 'vitest';
import { apiError, errorResponse } from '../src/http/error-response.ts';
import { NotFoundError } from '../src/lib/errors/not-found-error.ts';
import { RedisUnavailableError } from '../src/lib/errors/redis-unavailable-error.ts';

describe('errorResponse', () => {
  it('maps validation errors to 400 with the issues as details', () => {
    const issues = [{ field: 'text', rule: 'required', message: 'text is required' }];
    expect(errorResponse(new ValidationError(issues))).toEqual({
      statusCode: 400,
      headers: {},
      body: { error: { code: 'VALIDATION_FAILED', message: 'text is required', details: issues } },
    });
  });

  it('maps Fastify body errors to stable codes', () => {
    const fastify = (code: string, statusCode: number) =>
      Object.assign(new Error('x'), { code, statusCode });
    expect(errorResponse(fastify('FST_ERR_CTP_INVALID_JSON_BODY', 400)).body.error.code).toBe(
      'MALFORMED_JSON',
    );
    expect(errorResponse(fastify('FST_ERR_CTP_EMPTY_JSON_BODY', 400)).body.error.code).toBe(
      'MALFORMED_JSON',
    );
    expect(errorResponse(fastify('FST_ERR_CTP_BODY_TOO_LARGE', 413)).statusCode).toBe(413);
    expect(errorResponse(fastify('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415)).body.error.code).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expect(errorResponse(fastify('FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400))).toMatchObject({
      statusCode: 400,
      body: { error: { code: 'BAD_REQUEST' } },
    });
  });

  it('adds Retry-After to 429 and both 503s, and WWW-Authenticate to 401', () => {
    expect(
      errorResponse(apiError('RATE_LIMITED', 'slow down', { retryAfterMs: 2500 })).headers,
    ).toEqual({
      'retry-after': '3',
    });
    expect(errorResponse(new RedisUnavailableError('down'))).toMatchObject({
      statusCode: 503,
      headers: { 'retry-after': '1' },
    });
    expect(
      errorResponse(apiError('SHUTTING_DOWN', 'closing', { retryAfterMs: 1000 })),
    ).toMatchObject({ statusCode: 503, headers: { 'retry-after': '1' } });
    expect(errorResponse(apiError('UNAUTHORIZED', 'no')).headers).toEqual({
      'www-authenticate': 'Bearer',
    });
  });

  it('keeps the code of known errors and hides unknown ones behind INTERNAL', () => {
    expect(errorResponse(new NotFoundError('job', 'dr_x')).statusCode).toBe(404);
    const unknown = errorResponse(new Error('secret detail'));
    expect(unknown).toEqual({
      statusCode: 500,
      headers: {},
      body: { error: { code: 'INTERNAL', message: 'internal error' } },
    });
    expect(errorResponse(new AtelierError('odd', { code: 'SOMETHING_ELSE' })).body.error.code).toBe(
      'INTERNAL',
    );
  });
});
