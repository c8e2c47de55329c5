import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers of a callback delivery (Node lower-cases them on the receiving side). */
export const CALLBACK_HEADERS = {
  /** Unix time in seconds at which this attempt was signed. */
  timestamp: 'X-Atelier-Timestamp',
  /** `v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`; may list several comma-separated entries. */
  signature: 'X-Atelier-Signature',
  /** `job.completed` | `job.dead` | `batch.completed` (more may come: ignore unknown ones). */
  event: 'X-Atelier-Event',
  /** Stable across every retry of one delivery: the key to de-duplicate on. */
  delivery: 'X-Atelier-Delivery',
} as const;

/** Scheme tag of the current signature in `X-Atelier-Signature`. */
export const CALLBACK_SIGNATURE_SCHEME = 'v1';

/** How far a timestamp may be from the receiver's clock, either way, by default. */
export const DEFAULT_CALLBACK_TOLERANCE_SEC = 300;

/** Hex HMAC-SHA256 with `secret` over `${timestampSec}.${body}` (the body's exact bytes). */
export function signCallback(secret: string, timestampSec: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampSec}.${body}`).digest('hex');
}

export interface CallbackSignatureInput {
  secret: string;
  deliveryId: string;
  event: string;
  /** The serialised body, exactly as it will be sent. */
  body: string;
  timestampSec: number;
}

/** The four `X-Atelier-*` headers of one delivery attempt. */
export function callbackHeaders(input: CallbackSignatureInput): Record<string, string> {
  const signature = signCallback(input.secret, input.timestampSec, input.body);
  return {
    [CALLBACK_HEADERS.timestamp]: String(input.timestampSec),
    [CALLBACK_HEADERS.signature]: `${CALLBACK_SIGNATURE_SCHEME}=${signature}`,
    [CALLBACK_HEADERS.event]: input.event,
    [CALLBACK_HEADERS.delivery]: input.deliveryId,
  };
}

/** Node's `IncomingHttpHeaders`, any plain header record, or a fetch `Headers`. */
export type CallbackRequestHeaders =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(name: string): string | null };

export interface VerifyCallbackInput {
  /** The shared secret; several during a rotation (any one may match). */
  secret: string | readonly string[];
  headers: CallbackRequestHeaders;
  /** The raw request body, before any JSON parsing. */
  body: string | Uint8Array;
  toleranceSec?: number;
  /** The receiver's clock in milliseconds since the epoch (default `Date.now()`). */
  now?: number;
}

export type CallbackVerifyReason =
  | 'missing_header'
  | 'malformed_timestamp'
  | 'malformed_signature'
  | 'signature_mismatch'
  | 'stale_timestamp'
  | 'future_timestamp';

export type CallbackVerification =
  | { ok: true; deliveryId: string; event: string; timestampSec: number }
  | { ok: false; reason: CallbackVerifyReason };

const TIMESTAMP = /^\d{1,12}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/**
 * Checks that a request was signed with the secret (constant-time comparison) and that its
 * timestamp is within `toleranceSec` of now, which stops replays of captured requests later on.
 * Within the window, de-duplicate on the returned `deliveryId`.
 */
export function verifyCallback(input: VerifyCallbackInput): CallbackVerification {
  const timestamp = header(input.headers, CALLBACK_HEADERS.timestamp);
  const signature = header(input.headers, CALLBACK_HEADERS.signature);
  const deliveryId = header(input.headers, CALLBACK_HEADERS.delivery);
  const event = header(input.headers, CALLBACK_HEADERS.event);
  if (!timestamp || !signature || !deliveryId || !event) {
    return { ok: false, reason: 'missing_header' };
  }
  if (!TIMESTAMP.test(timestamp)) return { ok: false, reason: 'malformed_timestamp' };
  const candidates = signature
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith(`${CALLBACK_SIGNATURE_SCHEME}=`))
    .map((entry) => entry.slice(CALLBACK_SIGNATURE_SCHEME.length + 1))
    .filter((hex) => HEX_SHA256.test(hex))
    .map((hex) => Buffer.from(hex, 'hex'));
  if (candidates.length === 0) return { ok: false, reason: 'malformed_signature' };

  const secrets = typeof input.secret === 'string' ? [input.secret] : input.secret;
  let matched = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret)
      .update(`${timestamp}.`)
      .update(input.body)
      .digest();
    // Keep comparing after a match: the time taken does not depend on which entry matched.
    for (const candidate of candidates) {
      if (timingSafeEqual(expected, candidate)) matched = true;
    }
  }
  if (!matched) return { ok: false, reason: 'signature_mismatch' };

  const timestampSec = Number(timestamp);
  const nowSec = Math.floor((input.now ?? Date.now()) / 1000);
  const toleranceSec = input.toleranceSec ?? DEFAULT_CALLBACK_TOLERANCE_SEC;
  if (timestampSec < nowSec - toleranceSec) return { ok: false, reason: 'stale_timestamp' };
  if (timestampSec > nowSec + toleranceSec) return { ok: false, reason: 'future_timestamp' };
  return { ok: true, deliveryId, event, timestampSec };
}

function header(headers: CallbackRequestHeaders, name: string): string | undefined {
  if (typeof headers.get === 'function') {
    return (headers as { get(name: string): string | null }).get(name)?.trim() || undefined;
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    const text = typeof value === 'string' ? value : value.join(', ');
    return text.trim() || undefined;
  }
  return undefined;
}
