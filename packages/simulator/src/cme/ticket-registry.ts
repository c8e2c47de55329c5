import { createHash, randomBytes } from 'node:crypto';

export interface TicketRecord {
  readonly ticket: string;
  readonly userId: string;
  readonly platform: string;
  readonly tfUid: string;
  readonly expiresAtMs: number;
}

const SWEEP_EVERY_MINTS = 1024;

/** The TfUid the simulator reports for a user: stable for (platform, userId). */
export function tfUidFor(platform: string, userId: string): string {
  return createHash('sha256').update(`${platform}\0${userId}`).digest('hex').slice(0, 24);
}

/**
 * Live tickets ("Authorization" values). Every login mints a fresh one; a ticket ends when its
 * lifetime passes, when it is revoked (server-side logout) or by `expireAll`.
 */
export class TicketRegistry {
  readonly #tickets = new Map<string, TicketRecord>();
  readonly #lifetimeMs: number;
  readonly #now: () => number;
  #mintsSinceSweep = 0;

  constructor(lifetimeMs: number, now: () => number) {
    this.#lifetimeMs = lifetimeMs;
    this.#now = now;
  }

  mint(userId: string, platform: string): TicketRecord {
    if (++this.#mintsSinceSweep >= SWEEP_EVERY_MINTS) this.#sweep();
    const record: TicketRecord = {
      ticket: `tf_${randomBytes(24).toString('base64url')}`,
      userId,
      platform,
      tfUid: tfUidFor(platform, userId),
      expiresAtMs: this.#now() + this.#lifetimeMs,
    };
    this.#tickets.set(record.ticket, record);
    return record;
  }

  /** The live record of a ticket, or undefined when it is unknown, expired or revoked. */
  lookup(ticket: string): TicketRecord | undefined {
    const record = this.#tickets.get(ticket);
    if (!record) return undefined;
    if (record.expiresAtMs <= this.#now()) {
      this.#tickets.delete(ticket);
      return undefined;
    }
    return record;
  }

  /** Ends the tickets of one user, or all tickets; returns how many were live. */
  revoke(userId?: string): number {
    let ended = 0;
    for (const [ticket, record] of this.#tickets) {
      if (userId !== undefined && record.userId !== userId) continue;
      if (record.expiresAtMs > this.#now()) ended++;
      this.#tickets.delete(ticket);
    }
    return ended;
  }

  /** How many live tickets there are (of one user, or in all). */
  count(userId?: string): number {
    const now = this.#now();
    let live = 0;
    for (const record of this.#tickets.values()) {
      if (record.expiresAtMs > now && (userId === undefined || record.userId === userId)) live++;
    }
    return live;
  }

  #sweep(): void {
    this.#mintsSinceSweep = 0;
    const now = this.#now();
    for (const [ticket, record] of this.#tickets) {
      if (record.expiresAtMs <= now) this.#tickets.delete(ticket);
    }
  }
}
