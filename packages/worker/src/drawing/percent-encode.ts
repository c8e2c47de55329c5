/**
 * RFC 3986 percent-encoding: keeps `A-Z a-z 0-9 - _ . ~`, encodes every other UTF-8 byte as
 * `%XY` with upper-case hex (so a space is `%20`, never `+`). Lone surrogates become U+FFFD
 * instead of throwing.
 */
export function percentEncode(text: string): string {
  return encodeURIComponent(text.toWellFormed()).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Decodes `%XY` sequences; a malformed sequence leaves the text as it was. `+` stays `+`. */
export function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
