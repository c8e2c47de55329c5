/** What the simulator has served so far; a plain JSON-able snapshot. */
export interface CmeCountersSnapshot {
  logins: {
    /** Every request to the login endpoint. */
    attempts: number;
    /** Logins that minted a ticket. */
    total: number;
    failed: number;
    /** Successful logins per userId. */
    byUser: Record<string, number>;
  };
  apiCalls: {
    total: number;
    /** Keyed `Material/DeleteMaterial`. */
    byAction: Record<string, number>;
    /** Calls that carried a live ticket, per the ticket's userId. */
    byUser: Record<string, number>;
  };
  /** `AuthFailure.*` answers served to API calls (dead tickets and injected ones). */
  authFailures: number;
  faults: {
    total: number;
    /** Keyed by code, or `HTTP <status>`, `MalformedJson`, `ConnectionDrop`, `Slow`. */
    byKind: Record<string, number>;
  };
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

export class CmeCounters {
  #counts: CmeCountersSnapshot = CmeCounters.#zero();

  static #zero(): CmeCountersSnapshot {
    return {
      logins: { attempts: 0, total: 0, failed: 0, byUser: {} },
      apiCalls: { total: 0, byAction: {}, byUser: {} },
      authFailures: 0,
      faults: { total: 0, byKind: {} },
    };
  }

  loginAttempt(): void {
    this.#counts.logins.attempts++;
  }

  loginSucceeded(userId: string): void {
    this.#counts.logins.total++;
    bump(this.#counts.logins.byUser, userId);
  }

  loginFailed(): void {
    this.#counts.logins.failed++;
  }

  apiCall(action: string): void {
    this.#counts.apiCalls.total++;
    bump(this.#counts.apiCalls.byAction, action);
  }

  apiCallBy(userId: string): void {
    bump(this.#counts.apiCalls.byUser, userId);
  }

  authFailure(): void {
    this.#counts.authFailures++;
  }

  fault(kind: string): void {
    this.#counts.faults.total++;
    bump(this.#counts.faults.byKind, kind);
  }

  snapshot(): CmeCountersSnapshot {
    return structuredClone(this.#counts);
  }

  reset(): void {
    this.#counts = CmeCounters.#zero();
  }
}
