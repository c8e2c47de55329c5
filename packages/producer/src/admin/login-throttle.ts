export interface LoginThrottleOptions {
  /** Failed logins from one address, within `windowMs`, that lock it out. */
  readonly maxFailures: number;
  readonly windowMs: number;
  /** How long a locked-out address is refused. */
  readonly lockoutMs: number;
  /** Wait before answering the n-th failure: `failureDelayMs × n`, at most 5 s. */
  readonly failureDelayMs: number;
}

/** Addresses remembered at most (the oldest are forgotten first). */
const MAX_TRACKED = 10_000;

interface FailureRecord {
  failures: number;
  firstAt: number;
  lockedUntil: number;
}

/**
 * Brute-force damping for the login form, per client address, in this process: every failed
 * attempt is answered a little later than the one before, and too many failures in a window
 * lock the address out for a while. A successful login clears the address's record.
 */
export class LoginThrottle {
  readonly #o: LoginThrottleOptions;
  readonly #records = new Map<string, FailureRecord>();

  constructor(options: LoginThrottleOptions) {
    this.#o = options;
  }

  /** Milliseconds the address must still wait before it may try again (0: it may). */
  lockedFor(address: string, now: number): number {
    const record = this.#records.get(address);
    return record ? Math.max(0, record.lockedUntil - now) : 0;
  }

  /** Records a failure; returns how long to wait before answering it. */
  failed(address: string, now: number): number {
    let record = this.#records.get(address);
    if (!record || now - record.firstAt > this.#o.windowMs) {
      record = { failures: 0, firstAt: now, lockedUntil: 0 };
    }
    record.failures++;
    if (record.failures >= this.#o.maxFailures) record.lockedUntil = now + this.#o.lockoutMs;
    this.#records.delete(address);
    this.#records.set(address, record);
    this.#evict();
    return Math.min(5000, this.#o.failureDelayMs * record.failures);
  }

  succeeded(address: string): void {
    this.#records.delete(address);
  }

  #evict(): void {
    while (this.#records.size > MAX_TRACKED) {
      const oldest = this.#records.keys().next().value;
      if (oldest === undefined) return;
      this.#records.delete(oldest);
    }
  }
}
