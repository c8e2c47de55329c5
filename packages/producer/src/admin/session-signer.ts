import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** A logged-in operator, as carried (signed) in the session cookie. */
export interface AdminSession {
  user: string;
  /** Random per login: CSRF tokens are bound to it. */
  id: string;
  issuedAt: number;
  expiresAt: number;
}

/**
 * Signs and checks session cookies, CSRF tokens and login-form tokens with one HMAC-SHA256
 * key (each kind of token under its own label, so none can stand in for another). The key is
 * derived from the admin user and password with scrypt: every API replica accepts the same
 * sessions, and changing the password ends them all.
 */
export class SessionSigner {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length < 32) throw new TypeError('SessionSigner: key must be at least 32 bytes');
    this.#key = key;
  }

  static async fromCredentials(user: string, password: string): Promise<SessionSigner> {
    const key = await new Promise<Buffer>((resolve, reject) => {
      scrypt(password, `atelier-admin-session\u0000${user}`, 32, (err, derived) =>
        err ? reject(err) : resolve(derived),
      );
    });
    return new SessionSigner(key);
  }

  /** A new session and its cookie value. */
  issue(user: string, now: number, ttlMs: number): { session: AdminSession; token: string } {
    const session: AdminSession = {
      user,
      id: randomBytes(16).toString('base64url'),
      issuedAt: now,
      expiresAt: now + ttlMs,
    };
    const payload = Buffer.from(JSON.stringify(session), 'utf8').toString('base64url');
    return { session, token: `${payload}.${this.#mac('session', payload)}` };
  }

  /** The session in a cookie value, if the signature holds, it is for `user` and not expired. */
  verify(token: string | undefined, user: string, now: number): AdminSession | undefined {
    if (!token) return undefined;
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = token.slice(0, dot);
    if (!this.#equal(this.#mac('session', payload), token.slice(dot + 1))) return undefined;
    let session: AdminSession;
    try {
      session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as AdminSession;
    } catch {
      return undefined;
    }
    if (session.user !== user || typeof session.id !== 'string') return undefined;
    if (!(typeof session.expiresAt === 'number' && session.expiresAt > now)) return undefined;
    return session;
  }

  /** The CSRF token of a session (put in every form; checked on every state-changing request). */
  csrfToken(session: AdminSession): string {
    return this.#mac('csrf', session.id);
  }

  checkCsrf(session: AdminSession, token: unknown): boolean {
    return typeof token === 'string' && this.#equal(this.csrfToken(session), token);
  }

  /** A random value for the login form's pre-session cookie. */
  newLoginNonce(): string {
    return randomBytes(16).toString('base64url');
  }

  /** The token the login form carries for that cookie (login CSRF). */
  loginToken(nonce: string): string {
    return this.#mac('login', nonce);
  }

  checkLoginToken(nonce: string | undefined, token: unknown): boolean {
    return !!nonce && typeof token === 'string' && this.#equal(this.loginToken(nonce), token);
  }

  #mac(label: string, value: string): string {
    return createHmac('sha256', this.#key).update(`${label}\u0000${value}`).digest('base64url');
  }

  #equal(expected: string, presented: string): boolean {
    const a = Buffer.from(expected);
    const b = Buffer.from(presented);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
