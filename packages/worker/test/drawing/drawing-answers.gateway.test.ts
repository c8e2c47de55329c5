import { describe, expect, it } from 'vitest';
import {
  gatewayCanonicalRequest,
  misroutedError,
  misroutedOutcome,
  queryOutcome,
  submitOutcome,
  transportOutcome,
} from '../../src/drawing/drawing-answers.ts';
import { answer, failed } from './drawing-answer-fixtures.ts';

const ECHO =
  'POST|/draw/||content-type:application/x-www-form-urlencoded; charset=UTF-8|host:jm.example.com|x-sdk-date:20230527T015431Z||content-type;host;x-sdk-date|e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('drawing answers, spec "Gateway-level failures"', () => {
  it('Huawei throttling: HTTP 429 APIGW.0308 → throttled, Retry-After seconds → retryAfterMs', () => {
    const body = {
      error_code: 'APIGW.0308',
      error_msg: 'The throttling threshold has been reached: policy ip',
    };
    const error = failed(
      submitOutcome(answer(body, 429, { 'retry-after': '7' })),
      'throttled',
      'APIGW.0308',
    );
    expect(error.retryAfterMs).toBe(7000);
    expect(error.httpStatus).toBe(429);
    expect(error.providerMessage).toContain('throttling threshold');
  });

  it('Huawei throttling without Retry-After → throttled, no retryAfterMs', () => {
    const body = {
      error_code: 'APIGW.0308',
      error_msg: 'The throttling threshold has been reached',
    };
    expect(failed(queryOutcome(answer(body, 429)), 'throttled', 'APIGW.0308').retryAfterMs).toBe(
      undefined,
    );
  });

  it('Retry-After as an HTTP date → retryAfterMs until then', () => {
    const at = new Date(Date.now() + 60_000).toUTCString();
    const error = failed(
      submitOutcome(answer({ error_code: 'APIGW.0308' }, 429, { 'retry-after': at })),
      'throttled',
      'APIGW.0308',
    );
    expect(error.retryAfterMs).toBeGreaterThan(55_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it.each(['Throttled by APP Flow Control', 'Throttled by API Flow Control'])(
    'Aliyun throttling: HTTP 403 X-Ca-Error-Message "%s" → throttled ALIYUN_THROTTLED',
    (msg) => {
      const error = failed(
        submitOutcome(answer('', 403, { 'x-ca-error-message': msg, 'retry-after': '2' })),
        'throttled',
        'ALIYUN_THROTTLED',
      );
      expect(error.providerMessage).toBe(msg);
      expect(error.retryAfterMs).toBe(2000);
    },
  );

  it.each([
    ['APIGW.0501', 'app quota used up'],
    ['APIGW.0502', 'app frozen'],
  ])('quota used up: Huawei HTTP 405 %s (%s) → config', (code, msg) => {
    const error = failed(
      submitOutcome(answer({ error_code: code, error_msg: msg }, 405)),
      'config',
      code,
    );
    expect(error.retryable).toBe(false);
    expect(error.httpStatus).toBe(405);
  });

  it.each(['Quota Exhausted', 'Quota Expired'])(
    'quota used up: Aliyun HTTP 403 "%s" → config ALIYUN_QUOTA',
    (msg) => {
      const error = failed(
        submitOutcome(answer('', 403, { 'x-ca-error-message': msg })),
        'config',
        'ALIYUN_QUOTA',
      );
      expect(error.providerMessage).toBe(msg);
    },
  );

  it('bad credentials / signature: APIG.0303 → config; the echoed canonical request is kept', () => {
    const body = {
      error_msg: `Incorrect app authentication information: verify signature fail, canonicalRequest:${ECHO}`,
      error_code: 'APIG.0303',
      request_id: 'cb14',
    };
    const error = failed(submitOutcome(answer(body, 401)), 'config', 'APIG.0303');
    expect(gatewayCanonicalRequest(error)).toBe(ECHO.replaceAll('|', '\n'));
    expect(gatewayCanonicalRequest(error)?.split('\n')).toHaveLength(9);
  });

  it('bad signature: the echo is found with or without a space after "canonicalRequest:"', () => {
    const body = {
      error_msg: `Incorrect app authentication information: verify aksk signature fail, canonicalRequest: ${ECHO}`,
      error_code: 'APIG.0303',
    };
    const error = failed(queryOutcome(answer(body, 401)), 'config', 'APIG.0303');
    expect(gatewayCanonicalRequest(error)).toBe(ECHO.replaceAll('|', '\n'));
  });

  it('bad credentials: APIGW.0303 app not found → config, no canonical request to show', () => {
    const body = {
      error_msg: 'Incorrect app authentication information: app not found, appkey 0117',
      error_code: 'APIGW.0303',
    };
    const error = failed(queryOutcome(answer(body, 401)), 'config', 'APIGW.0303');
    expect(gatewayCanonicalRequest(error)).toBeUndefined();
  });

  it('other 401/403 auth rejections (Aliyun bad AppCode, bare 403) → config', () => {
    failed(
      submitOutcome(answer('', 403, { 'x-ca-error-message': 'Invalid AppCode' })),
      'config',
      'ALIYUN_AUTH',
    );
    failed(submitOutcome(answer('Forbidden', 403)), 'config', 'HTTP_403');
    failed(submitOutcome(answer({ error_code: 'APIG.0301' }, 401)), 'config', 'APIG.0301');
  });

  it.each([502, 503, 504, 500])('other HTTP %i → retryable HTTP_%i', (status) => {
    const error = failed(
      submitOutcome(answer('<html>upstream error</html>', status)),
      'retryable',
      `HTTP_${status}`,
    );
    expect(error.retryLimit).toBeUndefined();
    expect(error.httpStatus).toBe(status);
  });

  it('HTTP 404 alone (a load balancer mid-deploy, or a path wrong) → retryable, a misroute', () => {
    const gateway = submitOutcome(
      answer({ error_code: 'APIGW.0101', error_msg: 'The API does not exist' }, 404),
    );
    const error = failed(gateway, 'retryable', 'HTTP_404');
    expect(error.retryLimit).toBeUndefined();
    expect(error.providerMessage).toBe('The API does not exist');
    expect(misroutedError(gateway)).toBe(error);
    const bare = queryOutcome(answer('<html>404 Not Found</html>', 404));
    expect(misroutedError(bare)?.code).toBe('HTTP_404');
    const aliyun = submitOutcome(answer('', 404, { 'x-ca-error-message': 'Invalid Url' }));
    expect(misroutedError(aliyun)?.code).toBe('HTTP_404');
  });

  it.each([301, 302, 307, 308])(
    'HTTP %i (we never follow redirects) → retryable, a misroute',
    (status) => {
      const outcome = submitOutcome(answer('', status, { location: 'https://elsewhere/' }));
      expect(misroutedError(outcome)).toBe(failed(outcome, 'retryable', `HTTP_${status}`));
    },
  );

  it('answers that prove the configuration wrong are not misroutes: they halt at once', () => {
    for (const [body, status] of [
      [{ error_code: 'APIG.0303', error_msg: 'Incorrect app authentication information' }, 401],
      [{ error_code: 'APIGW.0502', error_msg: 'App has been frozen' }, 405],
    ] as const) {
      const outcome = submitOutcome(answer(body, status));
      expect(failed(outcome, 'config', body.error_code)).toBeDefined();
      expect(misroutedError(outcome)).toBeUndefined();
    }
    expect(misroutedError(submitOutcome(answer('', 503)))).toBeUndefined();
    expect(misroutedError(submitOutcome(answer({ code: 200, data: { taskId: '1' } }, 200)))).toBe(
      undefined,
    );
  });

  it('a misroute becomes config only once the streak is long enough in count AND time', () => {
    const error = failed(submitOutcome(answer('', 404)), 'retryable', 'HTTP_404');
    const threshold = { minCount: 5, minMs: 30_000 };
    const now = 1_000_000;
    const kindAt = (count: number, lastedMs: number) => {
      const outcome = misroutedOutcome(error, { count, sinceMs: now - lastedMs }, threshold, now);
      return outcome.kind === 'failed' ? outcome.error.kind : outcome.kind;
    };
    expect(kindAt(4, 60_000)).toBe('retryable');
    expect(kindAt(50, 29_999)).toBe('retryable');
    expect(kindAt(5, 30_000)).toBe('config');
    const halted = failed(
      misroutedOutcome(error, { count: 7, sinceMs: now - 45_000 }, threshold, now),
      'config',
      'HTTP_404',
    );
    expect(halted.message).toContain('7 calls in a row over 45000 ms');
    expect(halted.message).toContain('DRAWING_BASE_URL');
    expect(halted.httpStatus).toBe(404);
  });

  it('an unexpected 4xx → retryable a few times', () => {
    expect(failed(submitOutcome(answer('', 413)), 'retryable', 'HTTP_413').retryLimit).toBe(3);
  });
});

describe('drawing transport errors, spec "Network errors, timeouts … → retryable"', () => {
  it('a timeout (got TimeoutError, ETIMEDOUT) → retryable TIMEOUT', () => {
    const error = Object.assign(new Error("Timeout awaiting 'request' for 50ms"), {
      name: 'TimeoutError',
      code: 'ETIMEDOUT',
    });
    const result = failed(transportOutcome('query', error), 'retryable', 'TIMEOUT');
    expect(result.cause).toBe(error);
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND'])(
    'a network error %s → retryable NETWORK',
    (code) => {
      const error = Object.assign(new Error('socket trouble'), { name: 'RequestError', code });
      const result = failed(transportOutcome('submit', error), 'retryable', 'NETWORK');
      expect(result.message).toContain(code);
    },
  );

  it('an abort (got AbortError) → retryable ABORTED', () => {
    const error = Object.assign(new Error('This operation was aborted.'), {
      name: 'AbortError',
      code: 'ERR_ABORTED',
    });
    failed(transportOutcome('submit', error), 'retryable', 'ABORTED');
  });
});
