import { createHmac, timingSafeEqual } from 'node:crypto';
import { type ApigRequest, apigCanonicalRequest, sha256Hex } from './apig-canonical-request.ts';

export type ApigVerdict = { ok: true; appKey: string } | { ok: false; reason: string };

export interface ApigVerifierOptions {
  /** AppKey → AppSecret. */
  apps: Readonly<Record<string, string>>;
  /** The gateway's clock (epoch ms). */
  nowMs: number;
  /** Largest accepted distance between `X-Sdk-Date` and `nowMs`. */
  maxClockSkewMs: number;
}

const AUTHORIZATION =
  /^SDK-HMAC-SHA256\s+Access=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]+)\s*$/;
const SDK_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Parses `YYYYMMDDTHHMMSSZ` to epoch ms, or `undefined` when malformed. */
export function parseSdkDate(value: string): number | undefined {
  const m = SDK_DATE.exec(value);
  if (!m) return undefined;
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z`;
  const ms = Date.parse(iso);
  // Date.parse rolls impossible days over (Feb 30 → Mar 2): only a round trip is exact.
  return Number.isNaN(ms) || new Date(ms).toISOString() !== iso ? undefined : ms;
}

/**
 * Verifies a Huawei APIG `SDK-HMAC-SHA256` signature the way the gateway does, written from
 * the spec independently of the worker's signer. On a signature mismatch the reason echoes
 * the canonical request the gateway computed, with `|` for newlines, like the real one.
 */
export function verifyApigRequest(request: ApigRequest, options: ApigVerifierOptions): ApigVerdict {
  const authorization = single(request.headers.authorization);
  if (authorization === undefined) return { ok: false, reason: 'Authorization header is missing' };
  const parsed = AUTHORIZATION.exec(authorization.trim());
  if (!parsed) return { ok: false, reason: 'Authorization header is not SDK-HMAC-SHA256' };
  const [, appKey = '', signedList = '', signature = ''] = parsed;

  const secret = Object.hasOwn(options.apps, appKey) ? options.apps[appKey] : undefined;
  if (secret === undefined) return { ok: false, reason: `app key ${appKey} does not exist` };

  const sdkDate = single(request.headers['x-sdk-date']);
  if (sdkDate === undefined) return { ok: false, reason: 'X-Sdk-Date header is missing' };
  const signedAtMs = parseSdkDate(sdkDate);
  if (signedAtMs === undefined) return { ok: false, reason: `X-Sdk-Date ${sdkDate} is malformed` };
  if (Math.abs(options.nowMs - signedAtMs) > options.maxClockSkewMs) {
    return { ok: false, reason: `X-Sdk-Date ${sdkDate} is too far from the gateway clock` };
  }

  const signedHeaders = signedList.split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-sdk-date')) {
    return { ok: false, reason: `SignedHeaders ${signedList} must include host and x-sdk-date` };
  }
  for (const name of signedHeaders) {
    if (name !== name.toLowerCase() || name === 'authorization') {
      return { ok: false, reason: `SignedHeaders ${signedList} is invalid` };
    }
    if (request.headers[name] === undefined) {
      return { ok: false, reason: `signed header ${name} is missing from the request` };
    }
  }

  const canonical = apigCanonicalRequest(request, signedHeaders);
  const stringToSign = `SDK-HMAC-SHA256\n${sdkDate}\n${sha256Hex(canonical)}`;
  const expected = Buffer.from(createHmac('sha256', secret).update(stringToSign).digest('hex'));
  const given = Buffer.from(signature);
  if (given.length === expected.length && timingSafeEqual(given, expected)) {
    return { ok: true, appKey };
  }
  return {
    ok: false,
    reason: `verify aksk signature fail, canonicalRequest: ${canonical.replaceAll('\n', '|')}`,
  };
}
