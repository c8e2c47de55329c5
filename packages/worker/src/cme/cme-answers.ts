import { type FailureKind, failure, type Outcome, ProviderError, scrubUrl } from '@atelier/shared';
import type { CmeTicket } from './cme-ticket.ts';

/**
 * The one place where CME answers (client API and login) become outcomes.
 *
 * Choice: `RequestLimitExceeded*` is `throttled` (not `retryable`): it is a rate limit, so the
 * whole queue slows down for `RATE_LIMIT_BACKOFF_MS` and the job keeps its attempts.
 */

/** A raw HTTP answer: status and body text. */
export interface CmeAnswer {
  status: number;
  body: string;
}

export interface CmeCodeClass {
  kind: FailureKind;
  /** For "retry a little" codes: the most attempts the code deserves. */
  retryLimit?: number;
  retryAfterMs?: number;
}

/** Attempts for ambiguous (`FailedOperation*`, `ResourceInUse`) and unknown codes. */
export const RETRY_A_LITTLE_LIMIT = 3;
/** Queue-wide slow-down after `RequestLimitExceeded*` (limits are per second). */
export const RATE_LIMIT_BACKOFF_MS = 1000;

const TERMINAL_EXACT = new Set([
  'MissingParameter',
  'UnknownParameter',
  'UnauthorizedOperation',
  'InvalidAction',
  'ActionOffline',
  'RequestSizeLimitExceeded',
  'ResponseSizeLimitExceeded',
]);
// `InvalidParameter` also covers `InvalidParameterValue*`.
const TERMINAL_PREFIXES = [
  'InvalidParameter',
  'ResourceNotFound',
  'OperationDenied',
  'LimitExceeded',
  'Unsupported',
];
const TRANSIENT_EXACT = new Set([
  'ServiceUnavailable',
  'ResourceUnavailable',
  'ResourceInsufficient',
]);

/** Classifies a client-API failure `Code` per the spec's table. */
export function classifyCmeCode(code: string): CmeCodeClass {
  if (code.startsWith('AuthFailure')) return { kind: 'auth' };
  if (code.startsWith('RequestLimitExceeded')) {
    return { kind: 'throttled', retryAfterMs: RATE_LIMIT_BACKOFF_MS };
  }
  if (code.startsWith('InternalError') || TRANSIENT_EXACT.has(code)) return { kind: 'retryable' };
  if (TERMINAL_EXACT.has(code) || TERMINAL_PREFIXES.some((p) => code.startsWith(p))) {
    return { kind: 'terminal' };
  }
  // `FailedOperation*`, `ResourceInUse` and anything unknown: retry a little.
  return { kind: 'retryable', retryLimit: RETRY_A_LITTLE_LIMIT };
}

/** Classifies a login failure `Code`: our keys, clock or platform are wrong → `config`. */
export function classifyLoginCode(code: string): CmeCodeClass {
  if (
    code === 'SignatureVerifyFail' ||
    code === 'InvalidParameterValue.Platform' ||
    code.startsWith('AuthFailure')
  ) {
    return { kind: 'config' };
  }
  return classifyCmeCode(code);
}

/** The outcome of a client-API call (`Code == "Success"` → ok with `Data`, possibly absent). */
export function cmeApiOutcome(operation: string, answer: CmeAnswer): Outcome<unknown> {
  const body = parseJson(answer.body);
  // The client API answers `{Code, Message, EnglishMessage, Data}`; tolerate the cloud API's
  // `{Response: {Error: {Code, Message}}}` too.
  const error = body && objectField(objectField(body, 'Response') ?? {}, 'Error');
  const source = error ?? body;
  const code = source !== undefined ? stringField(source, 'Code') : undefined;
  if (body !== undefined && source !== undefined && code !== undefined) {
    if (code === 'Success') return { kind: 'ok', value: body.Data };
    const messages = messagesOf(source);
    return fail(`CME ${operation} answered ${code}`, {
      ...classifyCmeCode(code),
      code,
      ...messages,
      httpStatus: answer.status,
      response: body,
    });
  }
  if (answer.status === 401 || answer.status === 403) {
    return fail(`CME ${operation} answered HTTP ${answer.status}`, {
      kind: 'auth',
      code: `HTTP_${answer.status}`,
      httpStatus: answer.status,
    });
  }
  return malformed(`CME ${operation}`, answer);
}

/**
 * The outcome of a ticket exchange. Success: `Response.Authorization` (new shape) or
 * `Code == "Success"` with `Data.Authorization` (old). Failure: `Response.Error`, or a `Code`
 * other than `Success`. The HTTP status only matters when the body says nothing.
 */
export function cmeLoginOutcome(
  answer: CmeAnswer,
  who: { platform: string; userId: string; obtainedAt: number },
): Outcome<CmeTicket> {
  const body = parseJson(answer.body);
  if (body === undefined) return malformed('CME login', answer);
  const response = objectField(body, 'Response');
  if (response !== undefined) {
    const error = objectField(response, 'Error');
    if (error !== undefined) {
      return loginFailure(stringField(error, 'Code') ?? 'UNKNOWN', messagesOf(error), answer);
    }
    return ticketFrom(response, who) ?? malformed('CME login', answer);
  }
  const code = stringField(body, 'Code');
  if (code === 'Success') {
    const data = objectField(body, 'Data');
    return (data && ticketFrom(data, who)) ?? malformed('CME login', answer);
  }
  if (code !== undefined) return loginFailure(code, messagesOf(body), answer);
  return malformed('CME login', answer);
}

/** A failure to get any answer: network errors and timeouts are `retryable`. */
export function cmeTransportOutcome(operation: string, error: unknown): Outcome<never> {
  const name = error instanceof Error ? error.name : '';
  const errno = (error as { code?: unknown } | null)?.code;
  const timeout = name === 'TimeoutError' || errno === 'ETIMEDOUT';
  const detail = typeof errno === 'string' ? errno : name || 'error';
  return fail(`${operation} failed: ${timeout ? 'timed out' : detail}`, {
    kind: 'retryable',
    code: timeout ? 'TIMEOUT' : 'NETWORK',
    cause: sanitizedCause(error, detail),
  });
}

/** The transport error without its request options (they hold the ticket or signature URL). */
function sanitizedCause(error: unknown, code: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  const cause = new Error(scrubUrl(message));
  cause.name = error instanceof Error ? error.name : 'Error';
  return Object.assign(cause, { code });
}

/** `DescribeMaterials` data: the documented sets, or the doc example's flat object. */
export interface DescribeMaterialsData {
  MaterialInfoSet: unknown[];
  FailedMaterialInfoSet: unknown[];
}

/** Parses `DescribeMaterials` `Data` leniently (sets, a single object, or a flat MaterialInfo). */
export function describeMaterialsData(data: unknown): DescribeMaterialsData {
  if (Array.isArray(data)) return { MaterialInfoSet: data, FailedMaterialInfoSet: [] };
  if (!isObject(data)) return { MaterialInfoSet: [], FailedMaterialInfoSet: [] };
  if ('MaterialInfoSet' in data || 'FailedMaterialInfoSet' in data) {
    return {
      MaterialInfoSet: asList(data.MaterialInfoSet),
      FailedMaterialInfoSet: asList(data.FailedMaterialInfoSet),
    };
  }
  // The doc's own example: one MaterialInfo (`BasicInfo`, `MediaInfo`, …) as `Data` itself.
  return { MaterialInfoSet: 'BasicInfo' in data ? [data] : [], FailedMaterialInfoSet: [] };
}

type Json = Record<string, unknown>;

interface FailOptions {
  kind: FailureKind;
  code: string;
  retryLimit?: number;
  retryAfterMs?: number;
  providerMessage?: string;
  providerEnglishMessage?: string;
  httpStatus?: number;
  response?: unknown;
  cause?: unknown;
}

function fail(prefix: string, options: FailOptions): Outcome<never> {
  const text = options.providerEnglishMessage ?? options.providerMessage;
  const message = text ? `${prefix}: ${text}` : prefix;
  return failure(new ProviderError(message, { provider: 'cme', ...options }));
}

function loginFailure(
  code: string,
  messages: { providerMessage?: string; providerEnglishMessage?: string },
  answer: CmeAnswer,
): Outcome<never> {
  const classified = classifyLoginCode(code);
  const hint =
    code === 'SignatureVerifyFail'
      ? ' (check CME_SECRET_ID, CME_SECRET_KEY and the clock)'
      : code === 'InvalidParameterValue.Platform'
        ? ' (check CME_PLATFORM)'
        : '';
  return fail(`CME login answered ${code}${hint}`, {
    ...classified,
    code,
    ...messages,
    httpStatus: answer.status,
  });
}

function ticketFrom(
  source: Json,
  who: { platform: string; userId: string; obtainedAt: number },
): Outcome<CmeTicket> | undefined {
  const authorization = stringField(source, 'Authorization');
  if (!authorization) return undefined;
  const ticket: CmeTicket = { authorization, ...who };
  const tfUid = source.TfUid;
  if (typeof tfUid === 'string' || typeof tfUid === 'number') ticket.tfUid = String(tfUid);
  const appId = source.AppId;
  if (typeof appId === 'string' || typeof appId === 'number') ticket.appId = appId;
  return { kind: 'ok', value: ticket };
}

function malformed(what: string, answer: CmeAnswer): Outcome<never> {
  const serverError = answer.status >= 500;
  return fail(
    serverError
      ? `${what} answered HTTP ${answer.status}`
      : `${what} answered something unexpected (HTTP ${answer.status})`,
    {
      kind: 'retryable',
      code: serverError ? `HTTP_${answer.status}` : 'MALFORMED_RESPONSE',
      httpStatus: answer.status,
    },
  );
}

function messagesOf(source: Json): { providerMessage?: string; providerEnglishMessage?: string } {
  const out: { providerMessage?: string; providerEnglishMessage?: string } = {};
  const message = stringField(source, 'Message');
  const english = stringField(source, 'EnglishMessage');
  if (message !== undefined) out.providerMessage = message;
  if (english !== undefined) out.providerEnglishMessage = english;
  return out;
}

function parseJson(text: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectField(source: Json, name: string): Json | undefined {
  const value = source[name];
  return isObject(value) ? value : undefined;
}

function stringField(source: Json, name: string): string | undefined {
  const value = source[name];
  return typeof value === 'string' ? value : undefined;
}

function asList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === undefined || value === null ? [] : [value];
}

/**
 * What each delete answers when its target does not exist: the spec's "material not exist" for
 * `DeleteMaterial`; for `DeleteClass` the spec says nothing, the simulator answers "class not
 * exist" (`InvalidParameterValue.ClassId`, as for any other use of a missing class).
 */
const GONE_CODES: Readonly<Record<string, string>> = {
  'Material/DeleteMaterial': 'InvalidParameterValue.MaterialId',
  'Material/DeleteClass': 'InvalidParameterValue.ClassId',
};

/**
 * A delete whose target does not exist: already gone, which counts as done — whether an earlier
 * attempt whose answer was lost deleted it or it was never there.
 */
export function cmeAlreadyGone(action: string, outcome: Outcome<unknown>): boolean {
  const gone = GONE_CODES[action];
  return (
    gone !== undefined &&
    outcome.kind === 'failed' &&
    outcome.error.kind === 'terminal' &&
    outcome.error.code === gone
  );
}

/**
 * The class a `CreateClass` made, read from a `DescribeClass` answer listing the first level
 * under its parent: the class with the requested name, as the create's own `Data` (`{ClassId}`).
 * Names are unique under one parent (a second create is refused: `InvalidParameterValue.Name`),
 * so a class of that name found after the job sent its create is the one it made, unless
 * someone else made one of that name in between, which no answer tells apart.
 */
export function createdClassIn(data: unknown, name: string): { ClassId: number } | undefined {
  const classes = isObject(data) ? asList(data.ClassInfoSet) : [];
  for (const info of classes) {
    if (!isObject(info) || info.Name !== name) continue;
    const id = typeof info.ClassId === 'string' ? Number(info.ClassId) : info.ClassId;
    if (typeof id === 'number' && Number.isInteger(id)) return { ClassId: id };
  }
  return undefined;
}

/** Our own rate limit has no slot soon enough: slow the queue down, keep the attempt. */
export function cmeRateLimitedOutcome(actionClass: string, waitMs: number): Outcome<never> {
  return fail(`CME ${actionClass} rate limit: next slot in ${waitMs} ms`, {
    kind: 'throttled',
    code: 'RATE_LIMITED',
    retryAfterMs: waitMs,
  });
}

/**
 * An auth failure that persists with a ticket minted for this very retry: the credentials or
 * the user's permissions are wrong, not an expired ticket. Terminal, provider code kept.
 */
export function cmeAuthPersistsOutcome(operation: string, error: ProviderError): Outcome<never> {
  return fail(
    `CME ${operation} answered ${error.code} even with a fresh ticket: check the credentials and the user's permissions (not an expired ticket)`,
    {
      kind: 'terminal',
      code: error.code,
      ...(error.providerMessage !== undefined && { providerMessage: error.providerMessage }),
      ...(error.providerEnglishMessage !== undefined && {
        providerEnglishMessage: error.providerEnglishMessage,
      }),
      ...(error.httpStatus !== undefined && { httpStatus: error.httpStatus }),
      response: error.response,
    },
  );
}
