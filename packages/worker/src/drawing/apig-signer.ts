import { createHash, createHmac } from 'node:crypto';
import { percentDecode, percentEncode } from './percent-encode.ts';

export const APIG_ALGORITHM = 'SDK-HMAC-SHA256';

export interface ApigSignInput {
  method: string;
  /** The absolute URL exactly as it will be sent. */
  url: string;
  /** Headers that will be sent and signed (`Content-Type`, optionally `X-Sdk-Date`). */
  headers: Record<string, string>;
  /** The exact body bytes that will be sent (a string is taken as UTF-8). */
  body: string | Uint8Array;
  appKey: string;
  appSecret: string;
  /** Signing time when the headers carry no `X-Sdk-Date`; now by default. */
  date?: Date;
}

export interface ApigSignature {
  /** Value of the `Authorization` header (contains the signature: never log it). */
  authorization: string;
  /** Value of the `X-Sdk-Date` header that was signed. */
  sdkDate: string;
  signedHeaders: string;
  /** Non-secret: compare it with the gateway's echo when it rejects a signature. */
  canonicalRequest: string;
  hashedCanonicalRequest: string;
}

/**
 * Huawei APIG app signing (`SDK-HMAC-SHA256`), step by step as in `specs/drawing-api.md`.
 * Signs `host` (from the URL), `x-sdk-date` and every given header except `authorization`.
 */
export function signApigRequest(input: ApigSignInput): ApigSignature {
  const url = new URL(input.url);
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(input.headers)) {
    const lower = name.toLowerCase();
    if (lower !== 'authorization' && lower !== 'host') headers.set(lower, value.trim());
  }
  const sdkDate = headers.get('x-sdk-date') ?? formatSdkDate(input.date ?? new Date());
  headers.set('x-sdk-date', sdkDate);
  headers.set('host', url.host);

  const names = [...headers.keys()].sort(compareBytes);
  const signedHeaders = names.join(';');
  const canonicalHeaders = names.map((name) => `${name}:${headers.get(name)}\n`).join('');
  const canonicalRequest = [
    input.method.toUpperCase(),
    canonicalUri(url.pathname),
    canonicalQuery(url.search),
    canonicalHeaders,
    signedHeaders,
    sha256Hex(input.body),
  ].join('\n');
  const hashedCanonicalRequest = sha256Hex(canonicalRequest);
  const stringToSign = `${APIG_ALGORITHM}\n${sdkDate}\n${hashedCanonicalRequest}`;
  const signature = createHmac('sha256', input.appSecret).update(stringToSign).digest('hex');
  return {
    authorization: `${APIG_ALGORITHM} Access=${input.appKey}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    sdkDate,
    signedHeaders,
    canonicalRequest,
    hashedCanonicalRequest,
  };
}

/** `YYYYMMDDTHHMMSSZ` in UTC. */
export function formatSdkDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** Each path segment decoded then RFC 3986-encoded; always ends in `/`. */
export function canonicalUri(pathname: string): string {
  const path = pathname
    .split('/')
    .map((segment) => percentEncode(percentDecode(segment)))
    .join('/');
  return path.endsWith('/') ? path : `${path}/`;
}

/** Parameters sorted by name then value (UTF-8 byte order), `enc(name)=enc(value)` joined by `&`. */
export function canonicalQuery(search: string): string {
  const query = search.startsWith('?') ? search.slice(1) : search;
  if (query === '') return '';
  const pairs = query
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = eq === -1 ? part : part.slice(0, eq);
      const value = eq === -1 ? '' : part.slice(eq + 1);
      return [percentDecode(name), percentDecode(value)] as const;
    });
  pairs.sort((a, b) => compareBytes(a[0], b[0]) || compareBytes(a[1], b[1]));
  return pairs.map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`).join('&');
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
