import { type FailureKind, failure, type Outcome, ProviderError } from '@atelier/shared';
import {
  businessCode,
  idString,
  integer,
  type JsonObject,
  number,
  record,
  retryAfter,
  text,
} from './lenient-fields.ts';
import { parseLosslessJson } from './lossless-json.ts';

/**
 * The one place where drawing-provider answers become `Outcome`s (spec `drawing-api.md`:
 * "Business codes" and "Gateway-level failures"). Lenient: unknown fields are ignored.
 */

export type DrawingOperation = 'submit' | 'query';

export interface DrawingSubmitResult {
  /** Exact provider task id, every digit kept. */
  taskId: string;
  /** The provider's request id, when sent. */
  taskNo?: string;
  /** The provider's estimate (`waiting` seconds) of when the task will be ready. */
  hintMs?: number;
}

export interface DrawingQueryResult {
  images: string[];
  createTime?: string;
}

/** One HTTP answer as received; header names lower case (as Node gives them). */
export interface DrawingHttpAnswer {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Attempts a "retry a little" answer deserves (code 999, unknown codes). */
export const RETRY_A_LITTLE_LIMIT = 3;

const BUSINESS_CODES: Record<string, { kind: FailureKind; meaning: string }> = {
  '201': { kind: 'terminal', meaning: 'taskId does not exist' },
  '202': { kind: 'terminal', meaning: 'text blocked by moderation' },
  '400': { kind: 'terminal', meaning: 'bad parameter' },
  '500': { kind: 'outage', meaning: 'provider under maintenance' },
  '501': { kind: 'outage', meaning: 'upstream data source under maintenance' },
  '999': { kind: 'retryable', meaning: 'other provider error' },
};

const HUAWEI_THROTTLED = /^APIGW?\.0308$/;
const HUAWEI_QUOTA = /^APIGW?\.050[12]$/;
const HUAWEI_AUTH = /^APIGW?\.030\d$/;
const ALIYUN_THROTTLED = /throttled|flow control/i;
const ALIYUN_QUOTA = /quota (exhausted|expired)/i;

type Failed = Outcome<never>;
type Json = JsonObject;

/** Maps a submit answer: `{code:200, data:{taskId}}` → ok `{taskId, taskNo?}`. */
export function submitOutcome(answer: DrawingHttpAnswer): Outcome<DrawingSubmitResult> {
  const read = readBusiness('submit', answer);
  if ('outcome' in read) return read.outcome;
  const { body, data } = read;
  const taskId = idString(data?.taskId) ?? idString(body.taskId);
  if (taskId === undefined) return malformed('submit', answer, 'code 200 without data.taskId');
  const value: DrawingSubmitResult = { taskId };
  const taskNo = idString(body.taskNo);
  if (taskNo !== undefined) value.taskNo = taskNo;
  const hintMs = waitingMs(data, body);
  if (hintMs !== undefined) value.hintMs = hintMs;
  return { kind: 'ok', value };
}

/** Maps a query answer: status 1 → ok `{images}`, 0 → pending (`waiting` → `hintMs`), other → terminal. */
export function queryOutcome(answer: DrawingHttpAnswer): Outcome<DrawingQueryResult> {
  const read = readBusiness('query', answer);
  if ('outcome' in read) return read.outcome;
  const { body, data } = read;
  const status = integer(data?.status);
  if (status === undefined) return malformed('query', answer, 'code 200 without data.status');
  if (status === 0) {
    const hintMs = waitingMs(data, body);
    return hintMs === undefined ? { kind: 'pending' } : { kind: 'pending', hintMs };
  }
  if (status !== 1) {
    return fail('query', answer, {
      kind: 'terminal',
      code: `STATUS_${status}`,
      message: `task ended with status ${status}`,
      providerMessage: text(body.msg),
    });
  }
  const images = imageUrls(data);
  if (images.length === 0) return malformed('query', answer, 'status 1 without image URLs');
  const createTime = text(data?.createTime);
  return { kind: 'ok', value: createTime === undefined ? { images } : { images, createTime } };
}

/** Classifies an error thrown while sending or receiving (got `RequestError`s and the like). */
export function transportOutcome(operation: DrawingOperation, error: unknown): Failed {
  const name = error instanceof Error ? error.name : undefined;
  const errno = (error as { code?: unknown } | null)?.code;
  const detail = error instanceof Error ? error.message : String(error);
  const [code, what] =
    name === 'TimeoutError' || errno === 'ETIMEDOUT'
      ? ['TIMEOUT', 'timed out']
      : name === 'AbortError' || errno === 'ERR_ABORTED'
        ? ['ABORTED', 'aborted']
        : ['NETWORK', `network error${typeof errno === 'string' ? ` ${errno}` : ''}`];
  return failure(
    new ProviderError(`drawing ${operation}: ${what}: ${detail}`, {
      provider: 'drawing',
      kind: 'retryable',
      code,
      cause: error,
    }),
  );
}

/**
 * The canonical request a Huawei gateway echoes when it rejects a signature
 * (`…canonicalRequest:POST|/path/|…`), with newlines restored; non-secret.
 */
export function gatewayCanonicalRequest(error: ProviderError): string | undefined {
  const match = /canonicalRequest:\s*(.*)$/s.exec(error.providerMessage ?? '');
  return match?.[1]?.replaceAll('|', '\n');
}

function readBusiness(
  operation: DrawingOperation,
  answer: DrawingHttpAnswer,
): { outcome: Failed } | { body: Json; data: Json | undefined } {
  let parsed: unknown;
  let parseError: unknown;
  try {
    parsed = parseLosslessJson(answer.body);
  } catch (error) {
    parseError = error;
  }
  const gateway = gatewayFailure(operation, answer, record(parsed));
  if (gateway) return { outcome: gateway };
  const httpFailure = statusFailure(operation, answer, record(parsed));
  if (httpFailure) return { outcome: httpFailure };

  const body = record(parsed);
  if (body === undefined) {
    const why = parseError === undefined ? 'not a JSON object' : 'unparseable JSON';
    return { outcome: malformed(operation, answer, why, parseError) };
  }
  const code = businessCode(body.code);
  if (code === undefined) return { outcome: malformed(operation, answer, 'no business code') };
  if (code === '200') return { body, data: record(body.data) };
  const known = BUSINESS_CODES[code];
  return {
    outcome: fail(operation, answer, {
      kind: known?.kind ?? 'retryable',
      code,
      message: `code ${code} (${known?.meaning ?? 'unknown code'})`,
      providerMessage: text(body.msg) ?? text(body.message),
      retryLimit:
        known === undefined || known.kind === 'retryable' ? RETRY_A_LITTLE_LIMIT : undefined,
    }),
  };
}

/** Answers from the Huawei or Aliyun gateway, before the vendor saw the call. */
function gatewayFailure(
  operation: DrawingOperation,
  answer: DrawingHttpAnswer,
  body: Json | undefined,
): Failed | undefined {
  const status = answer.statusCode;
  const errorCode = text(body?.error_code);
  const providerMessage = text(body?.error_msg);
  const aliyunMessage = header(answer, 'x-ca-error-message');
  const retryAfterMs = retryAfter(header(answer, 'retry-after'));

  if ((errorCode !== undefined && HUAWEI_THROTTLED.test(errorCode)) || status === 429) {
    const code = errorCode ?? `HTTP_${status}`;
    return fail(operation, answer, {
      kind: 'throttled',
      code,
      message: 'throttled by the gateway',
      providerMessage,
      retryAfterMs,
    });
  }
  if (aliyunMessage !== undefined) {
    const aliyun = { providerMessage: aliyunMessage, retryAfterMs };
    if (ALIYUN_THROTTLED.test(aliyunMessage)) {
      return fail(operation, answer, {
        kind: 'throttled',
        code: 'ALIYUN_THROTTLED',
        message: 'throttled by the gateway',
        ...aliyun,
      });
    }
    if (ALIYUN_QUOTA.test(aliyunMessage)) {
      return fail(operation, answer, {
        kind: 'config',
        code: 'ALIYUN_QUOTA',
        message: 'API quota used up or expired: stop submitting and buy more',
        ...aliyun,
      });
    }
    if (status === 401 || status === 403) {
      return fail(operation, answer, {
        kind: 'config',
        code: 'ALIYUN_AUTH',
        message: 'credentials rejected by the gateway: check DRAWING_APP_CODE',
        ...aliyun,
      });
    }
  }
  if (errorCode !== undefined && HUAWEI_QUOTA.test(errorCode)) {
    return fail(operation, answer, {
      kind: 'config',
      code: errorCode,
      message: 'app quota used up or app frozen: stop submitting and alert',
      providerMessage,
    });
  }
  if (
    (errorCode !== undefined && HUAWEI_AUTH.test(errorCode)) ||
    status === 401 ||
    status === 403
  ) {
    return fail(operation, answer, {
      kind: 'config',
      code: errorCode ?? `HTTP_${status}`,
      message: 'credentials or signature rejected by the gateway: check DRAWING_AUTH_MODE and keys',
      providerMessage,
    });
  }
  return undefined;
}

/** Non-2xx answers that no gateway rule claimed. */
function statusFailure(
  operation: DrawingOperation,
  answer: DrawingHttpAnswer,
  body: Json | undefined,
): Failed | undefined {
  const status = answer.statusCode;
  if (status >= 200 && status < 300) return undefined;
  const providerMessage = text(body?.error_msg) ?? text(body?.msg) ?? text(body?.message);
  const code = `HTTP_${status}`;
  if (status >= 500) {
    return fail(operation, answer, {
      kind: 'retryable',
      code,
      message: `HTTP ${status}`,
      providerMessage,
    });
  }
  if (isMisrouteStatus(status)) {
    // A load balancer mid-deploy answers this too: transient, until it repeats
    // (`misroutedOutcome`). Only answers that prove the configuration wrong halt at once.
    return fail(operation, answer, {
      kind: 'retryable',
      code,
      message: `HTTP ${status} from the endpoint (a load balancer mid-deploy, or DRAWING_BASE_URL or a path wrong)`,
      providerMessage,
    });
  }
  return fail(operation, answer, {
    kind: 'retryable',
    code,
    message: `unexpected HTTP ${status}`,
    providerMessage,
    retryLimit: RETRY_A_LITTLE_LIMIT,
  });
}

/** 404 and 3xx: the call reached no API (we never follow redirects). */
function isMisrouteStatus(status: number): boolean {
  return status === 404 || (status >= 300 && status < 400);
}

/**
 * The error of a bare 404 or 3xx answer, else undefined: the call reached no API at all. The
 * vendor never saw it (no task was created), and alone it proves nothing about our
 * configuration.
 */
export function misroutedError(outcome: Outcome<unknown>): ProviderError | undefined {
  if (outcome.kind !== 'failed') return undefined;
  const { error } = outcome;
  const status = error.httpStatus;
  return error.code === `HTTP_${status}` && status !== undefined && isMisrouteStatus(status)
    ? error
    : undefined;
}

/**
 * A misrouted answer, given the streak it extends: transient as it is, until the endpoint has
 * answered nothing else for `minCount` calls and `minMs` — then the URL or a path is wrong: a
 * `config` failure, which halts the queue (jobs kept).
 */
export function misroutedOutcome(
  error: ProviderError,
  streak: { count: number; sinceMs: number },
  threshold: { minCount: number; minMs: number },
  now: number,
): Outcome<never> {
  const lastedMs = Math.max(0, now - streak.sinceMs);
  if (streak.count < threshold.minCount || lastedMs < threshold.minMs) return failure(error);
  return failure(
    new ProviderError(
      `drawing: HTTP ${error.httpStatus} on ${streak.count} calls in a row over ${lastedMs} ms, ` +
        'no answer from the API in between: check DRAWING_BASE_URL, DRAWING_SUBMIT_PATH and DRAWING_QUERY_PATH',
      {
        provider: 'drawing',
        kind: 'config',
        code: error.code,
        providerMessage: error.providerMessage,
        httpStatus: error.httpStatus,
        response: error.response,
      },
    ),
  );
}

interface FailureSpec {
  kind: FailureKind;
  code: string;
  message: string;
  providerMessage?: string | undefined;
  retryAfterMs?: number | undefined;
  retryLimit?: number | undefined;
  cause?: unknown;
}

function fail(operation: DrawingOperation, answer: DrawingHttpAnswer, spec: FailureSpec): Failed {
  return failure(
    new ProviderError(`drawing ${operation}: ${spec.message}`, {
      provider: 'drawing',
      kind: spec.kind,
      code: spec.code,
      providerMessage: spec.providerMessage,
      httpStatus: answer.statusCode,
      retryAfterMs: spec.retryAfterMs,
      retryLimit: spec.retryLimit,
      response: answer,
      cause: spec.cause,
    }),
  );
}

function malformed(
  operation: DrawingOperation,
  answer: DrawingHttpAnswer,
  why: string,
  cause?: unknown,
): Failed {
  return fail(operation, answer, {
    kind: 'retryable',
    code: 'MALFORMED_RESPONSE',
    message: `malformed answer: ${why}`,
    cause,
  });
}

/** The optional `waiting` field (seconds until ready), in ms. */
function waitingMs(data: Json | undefined, body: Json): number | undefined {
  const waiting = number(data?.waiting) ?? number(body.waiting);
  return waiting !== undefined && waiting > 0 ? Math.round(waiting * 1000) : undefined;
}

function imageUrls(data: Json | undefined): string[] {
  const list = Array.isArray(data?.imgUrls) ? data.imgUrls : [];
  const images = list
    .map((entry) => (typeof entry === 'string' ? entry : text(record(entry)?.image)))
    .filter((url): url is string => url !== undefined && url !== '');
  if (images.length > 0) return images;
  const img = text(data?.img);
  return img === undefined || img === '' ? [] : [img];
}

function header(answer: DrawingHttpAnswer, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
