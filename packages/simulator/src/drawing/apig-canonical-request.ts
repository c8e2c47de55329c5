import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** What the gateway sees of a request, as it arrived on the wire. */
export interface ApigRequest {
  method: string;
  /** The path as sent, still percent-encoded, without the query. */
  rawPath: string;
  /** The query string as sent, without `?` (empty when there is none). */
  rawQuery: string;
  /** Header names in lower case (Node's `IncomingHttpHeaders`). */
  headers: IncomingHttpHeaders;
  body: Uint8Array;
}

/** RFC 3986 percent-encoding of UTF-8 bytes, upper-case hex, space as `%20`. */
export function apigEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function decodeLeniently(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The path with each segment re-encoded, always ending in `/`. */
export function apigCanonicalUri(rawPath: string): string {
  const encoded = rawPath
    .split('/')
    .map((segment) => apigEncode(decodeLeniently(segment)))
    .join('/');
  if (encoded === '') return '/';
  return encoded.endsWith('/') ? encoded : `${encoded}/`;
}

/** Parameters sorted by encoded name, then encoded value; `name=` kept for empty values. */
export function apigCanonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  const pairs = rawQuery
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = eq === -1 ? part : part.slice(0, eq);
      const value = eq === -1 ? '' : part.slice(eq + 1);
      return [apigEncode(decodeLeniently(name)), apigEncode(decodeLeniently(value))] as const;
    });
  pairs.sort(([an, av], [bn, bv]) => (an === bn ? compare(av, bv) : compare(an, bn)));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/** Code-unit order, which is byte order for the ASCII that encoding leaves. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The six-line canonical request of the drawing spec (SDK-HMAC-SHA256 step 2) over the
 * given signed headers (lower-case). A signed header missing from the request is signed as
 * an empty value; the verifier rejects that case before it gets here.
 */
export function apigCanonicalRequest(
  request: ApigRequest,
  signedHeaders: readonly string[],
): string {
  const names = [...signedHeaders].sort(compare);
  const canonicalHeaders = names
    .map((name) => `${name}:${(headerValue(request.headers, name) ?? '').trim()}\n`)
    .join('');
  return [
    request.method.toUpperCase(),
    apigCanonicalUri(request.rawPath),
    apigCanonicalQuery(request.rawQuery),
    canonicalHeaders,
    names.join(';'),
    sha256Hex(request.body),
  ].join('\n');
}
