/** The label a code gets when it is neither in the specs nor one of Atelier's own. */
export const OTHER_CODE = 'other';

/** Codes the provider specs define (`specs/drawing-api.md`, `specs/cme-api.md`), exactly. */
const SPEC_CODES: ReadonlySet<string> = new Set([
  // Drawing: business codes (200 is what a successful call counts as) and gateway codes.
  '200',
  '201',
  '202',
  '400',
  '500',
  '501',
  '999',
  'APIGW.0308',
  'APIGW.0501',
  'APIGW.0502',
  'APIG.0303',
  'APIGW.0303',
  // CME: the codes the spec names, success included.
  'Success',
  'SignatureVerifyFail',
  'AuthFailure.SessionInvalid',
  'AuthFailure.InvalidAuthorization',
  'AuthFailure.TokenFailure',
  'AuthFailure.SignatureExpire',
  'InvalidParameterValue.Platform',
  'InvalidParameterValue.MaterialId',
  // Not named by the spec, but Atelier reads it: DeleteClass of a class already gone.
  'InvalidParameterValue.ClassId',
  'OperationDenied.PermissionDeny',
  'ServiceUnavailable',
  'ResourceUnavailable',
  'ResourceInsufficient',
  'ResourceInUse',
  'MissingParameter',
  'UnknownParameter',
  'UnauthorizedOperation',
  'InvalidAction',
  'ActionOffline',
  'RequestSizeLimitExceeded',
  'ResponseSizeLimitExceeded',
]);

/**
 * Families the CME spec names by prefix (`AuthFailure*`): the bare name is known, and any other
 * member counts as `<family>.other`. Longer prefixes first (`InvalidParameterValue` before
 * `InvalidParameter`).
 */
const SPEC_FAMILIES: readonly string[] = [
  'InvalidParameterValue',
  'InvalidParameter',
  'AuthFailure',
  'InternalError',
  'RequestLimitExceeded',
  'FailedOperation',
  'ResourceNotFound',
  'OperationDenied',
  'LimitExceeded',
  'Unsupported',
];

/** Codes Atelier raises itself (worker, store, BullMQ reasons it names). */
const ATELIER_CODES: ReadonlySet<string> = new Set([
  'TIMEOUT',
  'NETWORK',
  'ABORTED',
  'MALFORMED_RESPONSE',
  'ALIYUN_THROTTLED',
  'ALIYUN_QUOTA',
  'ALIYUN_AUTH',
  'SUBMIT_UNCONFIRMED',
  'POLL_TIMEOUT',
  'IMAGE_ARCHIVE_FAILED',
  'INVALID_PAYLOAD',
  'VALIDATION_FAILED',
  'INTERNAL',
  'ALREADY_DEAD',
  'RATE_LIMITED',
  'TICKET_WAIT_TIMEOUT',
  'INVALID_USER_ID',
  'CONFIG_INVALID',
  'UNKNOWN',
  'FAILED',
  'STALLED_LIMIT',
  'STARTED_LIMIT',
  'CALLBACK_DNS',
  'CALLBACK_URL_REFUSED',
  'CALLBACK_INVALID_JOB',
  'CALLBACK_INTERNAL',
  'CALLBACK_TIMEOUT',
  'CALLBACK_NETWORK',
  // The upstream model's "failed" task status (the drawing spec mentions it).
  'STATUS_9',
]);

/** Atelier's codes that carry an HTTP status: as many values as there are statuses. */
const ATELIER_HTTP = /^(CALLBACK_)?HTTP_[1-5]\d\d$/;

/**
 * The value a metric label may take for a failure code: known codes (the specs' and Atelier's
 * own) as they are, an unlisted member of a CME family as `<family>.other`, anything else
 * `other`. Provider strings never reach a label verbatim, so a provider that invents codes
 * cannot grow a metric without bound.
 */
export function metricCode(code: string): string {
  if (SPEC_CODES.has(code) || ATELIER_CODES.has(code) || ATELIER_HTTP.test(code)) return code;
  for (const family of SPEC_FAMILIES) {
    if (code === family) return code;
    if (code.startsWith(`${family}.`)) return `${family}.${OTHER_CODE}`;
  }
  return OTHER_CODE;
}
