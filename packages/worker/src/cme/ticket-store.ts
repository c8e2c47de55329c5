import {
  type AtelierKeys,
  atelierKeys,
  failure,
  type Logger,
  type Outcome,
  type OutcomeLabel,
  outcomeLabel,
  ProviderError,
} from '@atelier/shared';
import {
  LuaScript,
  listCmeTickets,
  type RedisClient,
  RedisLease,
  type TicketInfo,
} from '@atelier/store';
import type { CmeTicket } from './cme-ticket.ts';
import { delay } from './delay.ts';

/** One login attempt made by this process, for metrics. */
export interface TicketRefreshEvent {
  platform: string;
  userId: string;
  outcome: OutcomeLabel;
  durationMs: number;
}

export interface TicketStoreOptions {
  redis: RedisClient;
  /** BullMQ prefix (`ATELIER_QUEUE_PREFIX`). */
  prefix: string;
  platform: string;
  /** Exchanges a fresh signature for a ticket (`LoginClient.login`). */
  login: (userId: string, signal: AbortSignal) => Promise<Outcome<CmeTicket>>;
  /** Refresh tickets older than this even if they still work (0 = only when they fail). */
  maxAgeMs?: number;
  /** Lifetime of the refresh lock: longer than the slowest login (re-sign included). */
  lockTtlMs?: number;
  /** How long a caller waits for a login running elsewhere before giving up (retryable). */
  waitTimeoutMs?: number;
  /** First and largest pause between checks while another process logs in. */
  pollMinMs?: number;
  pollMaxMs?: number;
  onRefresh?: (event: TicketRefreshEvent) => void;
  logger?: Logger;
  now?: () => number;
}

const DEFAULTS = {
  maxAgeMs: 0,
  lockTtlMs: 35_000,
  waitTimeoutMs: 40_000,
  pollMinMs: 5,
  pollMaxMs: 50,
  now: Date.now,
};

type Resolved = TicketStoreOptions & typeof DEFAULTS;

/** One refresh in this process, shared by every caller that needs it (single flight). */
interface Flight {
  promise: Promise<Outcome<CmeTicket>>;
  controller: AbortController;
  callers: number;
}

/** Hash fields of a stored ticket. `refreshes` survives invalidation. */
const FIELDS = ['authorization', 'tfUid', 'appId', 'obtainedAt'] as const;

/** KEYS: ticket, lock, index. ARGV: lock token, index member, then field/value pairs. */
const STORE = new LuaScript(`
redis.call('HDEL', KEYS[1], 'tfUid', 'appId')
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
local refreshes = redis.call('HINCRBY', KEYS[1], 'refreshes', 1)
redis.call('SADD', KEYS[3], ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return refreshes
`);

/**
 * KEYS: ticket. ARGV: authorization and obtainedAt of the ticket that failed. Deletes it only
 * if it is still the stored one (a re-login that returned the same value counts as new).
 */
const INVALIDATE = new LuaScript(`
local stored = redis.call('HMGET', KEYS[1], 'authorization', 'obtainedAt')
if stored[1] == ARGV[1] and stored[2] == ARGV[2] then
  redis.call('HDEL', KEYS[1], 'authorization', 'tfUid', 'appId')
  return 1
end
return 0
`);

/**
 * CME tickets cached in Redis per (platform, userId). A missing, invalidated or too old ticket
 * is refreshed by exactly one login across all processes: a Redis lock elects the process
 * that logs in, the others poll until the new ticket appears (or the lock vanishes, and they
 * try to take it); inside a process, concurrent callers share one refresh.
 */
export class TicketStore {
  readonly #o: Resolved;
  readonly #keys: AtelierKeys['cme'];
  readonly #flights = new Map<string, Flight>();

  constructor(options: TicketStoreOptions) {
    this.#o = { ...DEFAULTS, ...options };
    this.#keys = atelierKeys(options.prefix).cme;
  }

  get platform(): string {
    return this.#o.platform;
  }

  /** The cached ticket for `userId`, or a fresh one. Login failures come back as outcomes. */
  async get(userId: string, signal?: AbortSignal): Promise<Outcome<CmeTicket>> {
    signal?.throwIfAborted();
    const cached = await this.#read(userId);
    if (cached && this.#usable(cached)) return { kind: 'ok', value: cached };
    signal?.throwIfAborted();
    return this.#join(userId, signal);
  }

  /**
   * Compare-and-delete: forgets `ticket` only if it is still the stored one, so a late failure
   * never throws away a fresher ticket. True when it deleted something.
   */
  async invalidate(
    userId: string,
    ticket: Pick<CmeTicket, 'authorization' | 'obtainedAt'>,
  ): Promise<boolean> {
    const deleted = await INVALIDATE.run(
      this.#o.redis,
      [this.#ticketKey(userId)],
      [ticket.authorization, String(ticket.obtainedAt)],
    );
    return deleted === 1;
  }

  /** Every (platform, userId) with a ticket record, for the dashboard. Never the ticket. */
  list(): Promise<TicketInfo[]> {
    return listCmeTickets(this.#o.redis, this.#o.prefix, this.#o.now());
  }

  /** Joins this process's refresh for `userId`, starting it if none runs. */
  async #join(userId: string, signal: AbortSignal | undefined): Promise<Outcome<CmeTicket>> {
    const joined = this.#flights.get(userId) ?? this.#startFlight(userId);
    joined.callers++;
    if (!signal) return joined.promise.finally(() => joined.callers--);
    // A caller that aborts leaves; the refresh stops only when every caller has left.
    return new Promise<Outcome<CmeTicket>>((resolve, reject) => {
      const leave = () => {
        joined.callers--;
        if (joined.callers === 0) {
          // Later callers start afresh rather than join a refresh that is being aborted.
          this.#endFlight(userId, joined);
          joined.controller.abort(signal.reason);
        }
        reject(signal.reason);
      };
      signal.addEventListener('abort', leave, { once: true });
      joined.promise.then(
        (outcome) => {
          signal.removeEventListener('abort', leave);
          joined.callers--;
          resolve(outcome);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', leave);
          joined.callers--;
          reject(error);
        },
      );
    });
  }

  #startFlight(userId: string): Flight {
    const controller = new AbortController();
    const promise = this.#refresh(userId, controller.signal).finally(() =>
      this.#endFlight(userId, flight),
    );
    const flight: Flight = { promise, controller, callers: 0 };
    this.#flights.set(userId, flight);
    return flight;
  }

  #endFlight(userId: string, flight: Flight): void {
    if (this.#flights.get(userId) === flight) this.#flights.delete(userId);
  }

  async #refresh(userId: string, signal: AbortSignal): Promise<Outcome<CmeTicket>> {
    const { redis, lockTtlMs, waitTimeoutMs, pollMinMs, pollMaxMs, now } = this.#o;
    const lockKey = this.#keys.ticketLock(this.#o.platform, userId);
    const deadline = now() + waitTimeoutMs;
    let pauseMs = pollMinMs;
    for (;;) {
      signal.throwIfAborted();
      const lease = await RedisLease.acquire(redis, lockKey, lockTtlMs);
      if (lease) return this.#loginHoldingLock(userId, lease, signal);
      // Another process is logging in: wait for its ticket, or for its lock to go away.
      for (;;) {
        const [ticket, lockHeld] = await Promise.all([this.#read(userId), redis.exists(lockKey)]);
        if (ticket && this.#usable(ticket)) return { kind: 'ok', value: ticket };
        if (lockHeld === 0) break;
        if (now() > deadline) {
          this.#o.logger?.warn({ platform: this.#o.platform, userId }, 'cme ticket wait timed out');
          return failure(
            new ProviderError(`CME login for ${userId} by another worker took too long`, {
              provider: 'cme',
              kind: 'retryable',
              code: 'TICKET_WAIT_TIMEOUT',
            }),
          );
        }
        await delay(pauseMs, signal);
        pauseMs = Math.min(pauseMs * 2, pollMaxMs);
      }
    }
  }

  async #loginHoldingLock(
    userId: string,
    lease: RedisLease,
    signal: AbortSignal,
  ): Promise<Outcome<CmeTicket>> {
    const { redis, platform, now } = this.#o;
    let stored = false;
    try {
      // Someone may have stored a ticket between our read and our lock.
      const current = await this.#read(userId);
      if (current && this.#usable(current)) return { kind: 'ok', value: current };
      const started = now();
      const outcome = await this.#o.login(userId, signal);
      this.#o.onRefresh?.({
        platform,
        userId,
        outcome: outcomeLabel(outcome),
        durationMs: now() - started,
      });
      if (outcome.kind !== 'ok') return outcome;
      const ticket = outcome.value;
      const fields: string[] = ['authorization', ticket.authorization];
      fields.push('obtainedAt', String(ticket.obtainedAt));
      if (ticket.tfUid !== undefined) fields.push('tfUid', ticket.tfUid);
      if (ticket.appId !== undefined) fields.push('appId', JSON.stringify(ticket.appId));
      const refreshes = await STORE.run(
        redis,
        [this.#ticketKey(userId), lease.key, this.#keys.ticketIndex],
        [lease.token, JSON.stringify([platform, userId]), ...fields],
      );
      stored = true;
      this.#o.logger?.debug({ platform, userId, refreshes }, 'cme ticket stored');
      return outcome;
    } finally {
      if (!stored) await lease.release().catch(() => undefined);
    }
  }

  async #read(userId: string): Promise<CmeTicket | undefined> {
    const [authorization, tfUid, appId, obtainedAt] = await this.#o.redis.hmget(
      this.#ticketKey(userId),
      ...FIELDS,
    );
    if (!authorization || obtainedAt === null || obtainedAt === undefined) return undefined;
    const ticket: CmeTicket = {
      authorization,
      platform: this.#o.platform,
      userId,
      obtainedAt: Number(obtainedAt),
    };
    if (tfUid) ticket.tfUid = tfUid;
    if (appId) ticket.appId = JSON.parse(appId) as number | string;
    return ticket;
  }

  #usable(ticket: CmeTicket): boolean {
    const { maxAgeMs, now } = this.#o;
    return maxAgeMs === 0 || now() - ticket.obtainedAt < maxAgeMs;
  }

  #ticketKey(userId: string): string {
    return this.#keys.ticket(this.#o.platform, userId);
  }
}
