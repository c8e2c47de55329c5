import { createHash, timingSafeEqual } from 'node:crypto';
import type { TenantKey } from '@atelier/shared';
import { apiError } from './error-response.ts';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const MESSAGE = 'missing or invalid credentials: send Authorization: Bearer <API key>';

/** Who sent a request: the tenant its key acts for, and whether it is an admin key. */
export interface ApiCaller {
  tenant: string;
  /** An `ATELIER_ADMIN_KEYS` key: may act on every tenant's work. */
  admin: boolean;
  /** A short, non-secret fingerprint of the key (rate limiting). */
  fingerprint: string;
}

/**
 * Checks `Authorization: Bearer <key>` against the configured keys in constant time: every
 * key is compared (SHA-256 digests, equal length) whatever matched, and every failure gets
 * the same answer. The caller it returns names the key's tenant, never its token.
 */
export class ApiKeyAuth {
  readonly #keys: Array<{ digest: Buffer; caller: ApiCaller }>;

  constructor(keys: { api: readonly TenantKey[]; admin?: readonly TenantKey[] }) {
    const entry = (key: TenantKey, admin: boolean) => {
      const digest = sha256(key.token.reveal());
      const fingerprint = digest.subarray(0, 8).toString('hex');
      return { digest, caller: { tenant: key.tenant, admin, fingerprint } };
    };
    this.#keys = [
      ...keys.api.map((key) => entry(key, false)),
      ...(keys.admin ?? []).map((key) => entry(key, true)),
    ];
  }

  /** The matching key's caller; throws `UNAUTHORIZED` otherwise. */
  authenticate(header: string | undefined): ApiCaller {
    const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
    const presented = sha256(token ?? '');
    let match: ApiCaller | undefined;
    for (const key of this.#keys) {
      if (timingSafeEqual(key.digest, presented) && token !== undefined) match = key.caller;
    }
    if (match === undefined) throw apiError('UNAUTHORIZED', MESSAGE);
    return match;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
