import { REDACTED, redactCallbackUrl, SECRET_FIELDS, scrubUrl } from '@atelier/shared';

/** Header names that carry credentials but are not in `SECRET_FIELDS`. */
const SECRET_HEADERS = [
  'x-apig-appcode',
  'x-atelier-signature',
  'x-api-key',
  'proxy-authorization',
  'set-cookie',
];

const SECRET_KEYS = new Set<string>(
  [...SECRET_FIELDS, ...SECRET_HEADERS].map((name) => name.toLowerCase()),
);

/** Key names that look like credentials even when not listed (`appSecretKey`, `x-auth-token`). */
const SECRET_KEY_PATTERN =
  /secret|passw|token|ticket|signature|authori[sz]ation|appcode|api[-_]?key|cookie|credential/i;

/** `scheme://user:password@host` → `scheme://[redacted]@host`. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s"'@]+@/gi;

/** Keys whose string value is a callback URL (job meta; a callback delivery's job data). */
const CALLBACK_URL_KEYS = new Set(['callbackUrl', 'url']);

const MAX_DEPTH = 32;

/** True when a value stored under this key must never be shown. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase()) || SECRET_KEY_PATTERN.test(key);
}

/** A string with secret query parameters and URL credentials replaced. */
export function maskString(text: string): string {
  return scrubUrl(text).replace(URL_USERINFO, (_m, scheme: string) => `${scheme}${REDACTED}@`);
}

/**
 * A deep copy of `value` fit for the dashboard: values under secret-looking keys (any depth,
 * any case, header names included) become `[redacted]`, a callback URL (`callbackUrl`, a
 * delivery's `url`) loses its whole query string, and every string — keys' values and array
 * items alike — has secret URL query parameters and credentials scrubbed. Cycles and
 * absurd depths are cut rather than followed.
 */
export function maskSecrets(value: unknown): unknown {
  return mask(value, 0, new WeakSet());
}

function mask(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return maskString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH || seen.has(value)) return REDACTED;
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => mask(item, depth + 1, seen));
    const json = (value as { toJSON?: () => unknown }).toJSON;
    if (typeof json === 'function') return mask(json.call(value), depth + 1, seen);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (isSecretKey(key) && item !== null && item !== undefined) out[key] = REDACTED;
      else if (CALLBACK_URL_KEYS.has(key) && typeof item === 'string') {
        out[key] = redactCallbackUrl(item);
      } else out[key] = mask(item, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
