import { createHmac, timingSafeEqual } from 'node:crypto';
import { CmeFailure } from './cme-failure.ts';

/** What the login endpoint checks a signature against. */
export interface LoginVerifierConfig {
  secretKey: string;
  /** When set, the signature's `secretId` must equal it. */
  secretId: string | undefined;
  platform: string;
  maxClockSkewMs: number;
}

export interface VerifiedLogin {
  userId: string;
  platform: string;
  fields: Record<string, string>;
}

const MAC_BYTES = 20;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const REQUIRED = [
  'secretId',
  'currentTimeStamp',
  'expireTime',
  'random',
  'platform',
  'action',
  'userId',
];

function verifyFail(): CmeFailure {
  return new CmeFailure('SignatureVerifyFail');
}

/**
 * Checks a client access signature the way specs/cme-api.md describes it:
 * base64(HMAC-SHA1(SecretKey, original) ‖ original), `original` a `k=v&…` string with
 * URL-encoded values. Throws a CmeFailure naming the first problem.
 */
export function verifyLoginSignature(
  signature: string,
  config: LoginVerifierConfig,
  nowMs: number,
): VerifiedLogin {
  if (signature.length % 4 !== 0 || !BASE64.test(signature)) throw verifyFail();
  const raw = Buffer.from(signature, 'base64');
  if (raw.length <= MAC_BYTES) throw verifyFail();
  const mac = raw.subarray(0, MAC_BYTES);
  const original = raw.subarray(MAC_BYTES);
  const fields = parseOriginal(original.toString('utf8'));
  if (config.secretId !== undefined && fields.secretId !== config.secretId) throw verifyFail();
  const expected = createHmac('sha1', config.secretKey).update(original).digest();
  if (!timingSafeEqual(mac, expected)) throw verifyFail();
  for (const name of REQUIRED) {
    if (!fields[name]) {
      throw new CmeFailure('MissingParameter', `缺少参数 ${name}`, `missing parameter: ${name}`);
    }
  }
  if (fields.platform !== config.platform) throw new CmeFailure('InvalidParameterValue.Platform');
  if (fields.action !== 'Login') throw new CmeFailure('InvalidParameterValue.Action');
  const current = Number(fields.currentTimeStamp) * 1000;
  const expire = Number(fields.expireTime) * 1000;
  const valid =
    Number.isInteger(current) &&
    Number.isInteger(expire) &&
    expire > current &&
    /^\d+$/.test(fields.random ?? '');
  if (!valid || expire < nowMs || current > nowMs + config.maxClockSkewMs) throw verifyFail();
  return { userId: fields.userId ?? '', platform: fields.platform ?? '', fields };
}

function parseOriginal(original: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const pair of original.split('&')) {
    const at = pair.indexOf('=');
    if (at <= 0) throw verifyFail();
    try {
      fields[pair.slice(0, at)] = decodeURIComponent(pair.slice(at + 1));
    } catch {
      throw verifyFail();
    }
  }
  return fields;
}
