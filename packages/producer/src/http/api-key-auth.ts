import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '@atelier/shared';
import { apiError } from './error-response.ts';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const MESSAGE = 'missing or invalid credentials: send Authorization: Bearer <API key>';

/**
 * Checks `Authorization: Bearer <key>` against the configured keys in constant time: every
 * key is compared (SHA-256 digests, equal length) whatever matched, and every failure gets
 * the same answer. Returns a short, non-secret fingerprint of the key for rate limiting.
 */
export class ApiKeyAuth {
  readonly #keys: Array<{ digest: Buffer; fingerprint: string }>;

  constructor(keys: readonly Secret[]) {
    this.#keys = keys.map((key) => {
      const digest = sha256(key.reveal());
      return { digest, fingerprint: digest.subarray(0, 8).toString('hex') };
    });
  }

  /** The matching key's fingerprint; throws `UNAUTHORIZED` otherwise. */
  authenticate(header: string | undefined): string {
    const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
    const presented = sha256(token ?? '');
    let match: string | undefined;
    for (const key of this.#keys) {
      if (timingSafeEqual(key.digest, presented) && token !== undefined) match = key.fingerprint;
    }
    if (match === undefined) throw apiError('UNAUTHORIZED', MESSAGE);
    return match;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
