import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '@atelier/shared';

/**
 * The dashboard login (`ATELIER_ADMIN_USER` / `ATELIER_ADMIN_PASSWORD`), checked in constant
 * time: both fields are always compared, as equal-length SHA-256 digests.
 */
export class AdminCredentials {
  readonly user: string;
  readonly #user: Buffer;
  readonly #password: Buffer;

  constructor(user: string, password: Secret) {
    this.user = user;
    this.#user = sha256(user);
    this.#password = sha256(password.reveal());
  }

  check(user: unknown, password: unknown): boolean {
    const userOk = timingSafeEqual(this.#user, sha256(typeof user === 'string' ? user : ''));
    const passwordOk = timingSafeEqual(
      this.#password,
      sha256(typeof password === 'string' ? password : ''),
    );
    return userOk && passwordOk && typeof user === 'string' && typeof password === 'string';
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
