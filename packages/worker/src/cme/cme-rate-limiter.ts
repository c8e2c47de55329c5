import { atelierKeys } from '@atelier/shared';
import { LuaScript, type RedisClient } from '@atelier/store';

export interface CmeRateLimiterOptions {
  redis: RedisClient;
  /** BullMQ prefix (`ATELIER_QUEUE_PREFIX`). */
  prefix: string;
  /** Calls per second per action class, shared by every worker (`CME_RATE_LIMIT_PER_SEC`). */
  ratePerSec: number;
  /** Calls allowed back to back before the spacing applies (1 = evenly spaced). */
  burst?: number;
  /** Longest wait worth a reservation; beyond it the caller is told to come back later. */
  maxWaitMs?: number;
}

/**
 * `go`: a slot is reserved; call after `afterMs` (0 = now).
 * `wait`: no slot within `maxWaitMs`; nothing is reserved; try again in `waitMs`.
 */
export type RateDecision = { kind: 'go'; afterMs: number } | { kind: 'wait'; waitMs: number };

const DEFAULTS = { burst: 1, maxWaitMs: 2000 };

/**
 * GCRA with reservations, on Redis time, so every worker process shares one schedule.
 * KEYS[1] = theoretical arrival time (ms, "%.3f"); ARGV = interval ms, burst tolerance ms,
 * max wait ms. Returns {1, afterMs} (reserved) or {0, waitMs} (not reserved).
 */
const GCRA = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if wait > tonumber(ARGV[3]) then return {0, math.ceil(wait)} end
local nextTat = tat + interval
redis.call('SET', KEYS[1], string.format('%.3f', nextTat), 'PX', math.ceil(nextTat - now) + 1000)
return {1, math.ceil(wait)}
`);

/** A per-action-class rate limit (`Material`, `Team`, …) shared by all workers through Redis. */
export class CmeRateLimiter {
  readonly #redis: RedisClient;
  readonly #keys: ReturnType<typeof atelierKeys>['cme'];
  readonly #intervalMs: number;
  readonly #toleranceMs: number;
  readonly #maxWaitMs: number;

  constructor(options: CmeRateLimiterOptions) {
    const { burst, maxWaitMs } = { ...DEFAULTS, ...options };
    if (!(options.ratePerSec > 0)) throw new RangeError('ratePerSec must be positive');
    if (!Number.isInteger(burst) || burst < 1) throw new RangeError('burst must be an integer ≥ 1');
    this.#redis = options.redis;
    this.#keys = atelierKeys(options.prefix).cme;
    this.#intervalMs = 1000 / options.ratePerSec;
    this.#toleranceMs = (burst - 1) * this.#intervalMs;
    this.#maxWaitMs = maxWaitMs;
  }

  /** Asks for a slot for one call of `actionClass` (one Redis round trip). */
  async reserve(actionClass: string): Promise<RateDecision> {
    const reply = (await GCRA.run(
      this.#redis,
      [this.#keys.rate(actionClass)],
      [this.#intervalMs, this.#toleranceMs, this.#maxWaitMs],
    )) as [number, number];
    const [reserved, ms] = reply;
    return reserved === 1 ? { kind: 'go', afterMs: ms } : { kind: 'wait', waitMs: ms };
  }
}
