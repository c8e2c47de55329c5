import { percentEncode } from './percent-encode.ts';

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded; charset=UTF-8';

/**
 * Serialises form fields once, in the given order, as `name=value&…` with RFC 3986 encoding
 * (space → `%20`, `*` → `%2A`). The same bytes are hashed for signing and sent.
 */
export function encodeFormBody(fields: Record<string, string | number>): Buffer {
  const pairs = Object.entries(fields).map(
    ([name, value]) => `${percentEncode(name)}=${percentEncode(String(value))}`,
  );
  return Buffer.from(pairs.join('&'), 'utf8');
}
