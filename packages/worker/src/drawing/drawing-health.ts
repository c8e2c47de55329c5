import { atelierKeys, type Logger } from '@atelier/shared';
import { LuaScript, type RedisClient } from '@atelier/store';

export interface OutageWindow {
  code: string;
  openedAt: number;
  until: number;
}

export type Gate =
  | { go: true; probe: boolean }
  | { go: false; until: number; reason: 'outage' | 'probe' };

export interface DrawingHealthOptions {
  redis: RedisClient;
  prefix: string;
  logger: Logger;
  /** `DRAWING_MAINTENANCE_BACKOFF_MS`: the window's length, and each re-opening after a failed probe. */
  backoffMs: number;
  /** `DRAWING_OUTAGE_STREAK`: consecutive 500/501 answers that open the window. */
  streak: number;
  onWindow?: (open: boolean) => void;
}

/** How long a process trusts what it last read. */
const CACHE_MS = 200;

interface HealthState {
  at: number;
  window: OutageWindow | undefined;
  streak: number;
  /** A 404/3xx streak is open. */
  misrouted: boolean;
}

/** 404/3xx answers in a row from the endpoint (across workers) and when the first came. */
export interface MisrouteStreak {
  count: number;
  sinceMs: number;
}

/**
 * Counts a maintenance answer; opens (or re-opens) the window at the streak. Returns the window
 * or nil. KEYS: streak, outage, probe; ARGV: streak length, code, now, ttl, backoff.
 */
const RECORD_MAINTENANCE = new LuaScript(`
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local open = redis.call('GET', KEYS[2])
if open or n >= tonumber(ARGV[1]) then
  local w = cjson.encode({code = ARGV[2], openedAt = tonumber(ARGV[3]), ['until'] = tonumber(ARGV[3]) + tonumber(ARGV[5])})
  if open then
    local prev = cjson.decode(open)
    if prev['until'] > tonumber(ARGV[3]) then return open end
    w = cjson.encode({code = ARGV[2], openedAt = prev['openedAt'], ['until'] = tonumber(ARGV[3]) + tonumber(ARGV[5])})
  end
  redis.call('SET', KEYS[2], w, 'PX', ARGV[4])
  redis.call('DEL', KEYS[3])
  return w
end
return false
`);

/**
 * Counts a 404/3xx answer: the streak (count, since) as JSON. KEYS: misroute streak; ARGV: now,
 * ttl.
 */
const RECORD_MISROUTE = new LuaScript(`
local raw = redis.call('GET', KEYS[1])
local s = raw and cjson.decode(raw) or {count = 0, since = tonumber(ARGV[1])}
s.count = s.count + 1
local out = cjson.encode(s)
redis.call('SET', KEYS[1], out, 'PX', ARGV[2])
return out
`);

/**
 * Provider-wide health of the drawing API, shared by all workers through Redis: a streak of
 * 500/501 answers opens an outage window (the job that meets it holds the queue for its
 * length, so no submits or polls hit the provider); after it, exactly one job probes; its
 * success closes the window, another maintenance answer re-opens it. Jobs keep their attempts
 * throughout. It also keeps the streak of 404/3xx answers (calls that reached no API), which a
 * good answer ends like a maintenance streak.
 */
export class DrawingHealth {
  readonly #o: Required<DrawingHealthOptions>;
  readonly #keys: ReturnType<typeof atelierKeys>['drawing'];
  #cached: HealthState | undefined;
  #reading: Promise<HealthState> | undefined;

  constructor(options: DrawingHealthOptions) {
    this.#o = { onWindow: () => undefined, ...options };
    this.#keys = atelierKeys(options.prefix).drawing;
  }

  /** May this job call the provider now? At most one probe at a time once a window has passed. */
  async gate(now = Date.now()): Promise<Gate> {
    const { window } = await this.#state(now);
    if (!window) return { go: true, probe: false };
    if (now < window.until) return { go: false, until: window.until, reason: 'outage' };
    const won = await this.#o.redis.set(
      this.#keys.probe,
      String(now),
      'PX',
      this.#o.backoffMs,
      'NX',
    );
    if (won === 'OK') return { go: true, probe: true };
    return { go: false, until: now + Math.min(this.#o.backoffMs, 2000), reason: 'probe' };
  }

  /**
   * A 500/501 answer. Returns the window, if this answer opened or extended one (or met one
   * still open); the caller holds the queue until it ends.
   */
  async recordMaintenance(code: string, now = Date.now()): Promise<OutageWindow | undefined> {
    const ttl = Math.max(this.#o.backoffMs * 10, 60_000);
    const json = await RECORD_MAINTENANCE.run(
      this.#o.redis,
      [this.#keys.maintenanceStreak, this.#keys.outage, this.#keys.probe],
      [this.#o.streak, code, now, ttl, this.#o.backoffMs],
    );
    this.#cached = undefined;
    if (typeof json !== 'string') return undefined;
    const window = JSON.parse(json) as OutageWindow;
    if (window.until > now) {
      if (window.openedAt === now) {
        this.#o.logger.error(
          { code, untilMs: window.until },
          'drawing provider in maintenance: outage window opened',
        );
      }
      this.#o.onWindow(true);
    }
    return window;
  }

  /**
   * A 404/3xx answer: extends the streak shared by all workers (it lapses after a quiet spell of
   * `idleMs`) and returns it.
   */
  async recordMisroute(idleMs: number, now = Date.now()): Promise<MisrouteStreak> {
    const json = await RECORD_MISROUTE.run(
      this.#o.redis,
      [this.#keys.misrouteStreak],
      [now, Math.max(1, idleMs)],
    );
    this.#cached = undefined;
    const { count, since } = JSON.parse(String(json)) as { count: number; since: number };
    return { count, sinceMs: since };
  }

  /**
   * A good answer: ends a maintenance or 404/3xx streak, closes a window (the probe succeeded).
   */
  async recordHealthy(now = Date.now()): Promise<void> {
    const { window, streak, misrouted } = await this.#state(now);
    if (!window && streak === 0 && !misrouted) return;
    await this.#o.redis.del(
      this.#keys.maintenanceStreak,
      this.#keys.outage,
      this.#keys.probe,
      this.#keys.misrouteStreak,
    );
    this.#cached = { at: now, window: undefined, streak: 0, misrouted: false };
    if (window) {
      this.#o.logger.warn(
        { code: window.code, openForMs: now - window.openedAt },
        'drawing provider back: outage window closed',
      );
      this.#o.onWindow(false);
    }
  }

  async window(): Promise<OutageWindow | undefined> {
    return (await this.#state(Date.now(), true)).window;
  }

  async #state(now: number, fresh = false) {
    if (fresh) return this.#read(now);
    if (this.#cached && now - this.#cached.at < CACHE_MS) return this.#cached;
    // Jobs that find the cache stale together share one read.
    this.#reading ??= this.#read(now).finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  async #read(now: number) {
    const [outage, streak, misrouted] = await this.#o.redis.mget(
      this.#keys.outage,
      this.#keys.maintenanceStreak,
      this.#keys.misrouteStreak,
    );
    this.#cached = {
      at: now,
      window: outage ? (JSON.parse(outage) as OutageWindow) : undefined,
      streak: Number(streak ?? 0),
      misrouted: misrouted !== null,
    };
    return this.#cached;
  }
}
