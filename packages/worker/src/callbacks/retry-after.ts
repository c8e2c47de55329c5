/**
 * Milliseconds to wait according to a `Retry-After` header (delay-seconds or an HTTP date),
 * or undefined when it is absent, unparsable or already past.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) {
    const ms = Number(text) * 1000;
    return ms > 0 && Number.isFinite(ms) ? ms : undefined;
  }
  const at = Date.parse(text);
  if (Number.isNaN(at) || at <= nowMs) return undefined;
  return at - nowMs;
}
