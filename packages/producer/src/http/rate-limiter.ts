import { atelierKeys } from '@atelier/shared';
import { LuaScript, type RedisClient } from '@atelier/store';
import type { RedisGuard } from '../lib/redis-guard.ts';
import { apiError } from './error-response.ts';

/**
 * Sliding-window estimate (previous window weighted by how much of it still overlaps, plus
 * the current one); rejected requests are not counted. Returns {allowed, retryAfterMs}.
 */
const HIT = new LuaScript(`
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local elapsed = tonumber(ARGV[3])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local weighted = prev * (window - elapsed) / window + cur
if weighted + 1 > limit then
  local wait
  if cur + 1 > limit or prev == 0 then
    wait = window - elapsed + math.ceil(window / limit)
  else
    wait = math.ceil(window - elapsed - (limit - cur - 1) * window / prev)
  end
  return {0, math.max(wait, 1)}
end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], window * 2)
return {1, 0}
`);

/** The limit is per minute (`ATELIER_RATE_LIMIT_PER_MIN`). */
const WINDOW_MS = 60_000;

export interface RateLimiterOptions {
  readonly redis: RedisClient;
  readonly guard: RedisGuard;
  readonly prefix: string;
  /** Requests per minute per key (`ATELIER_RATE_LIMIT_PER_MIN`). */
  readonly limit: number;
}

/**
 * Per-API-key request limit kept in Redis, so every API replica shares it. Over the limit:
 * `RATE_LIMITED` (HTTP 429) with the time until a request would be let through.
 */
export class RateLimiter {
  readonly #o: RateLimiterOptions;

  constructor(options: RateLimiterOptions) {
    this.#o = options;
  }

  async hit(keyFingerprint: string, now = Date.now()): Promise<void> {
    const { limit, redis, guard, prefix } = this.#o;
    const windowStart = Math.floor(now / WINDOW_MS) * WINDOW_MS;
    const rate = atelierKeys(prefix).api.rate;
    const keys = [rate(keyFingerprint, windowStart), rate(keyFingerprint, windowStart - WINDOW_MS)];
    const [allowed, waitMs] = (await guard.run(() =>
      HIT.run(redis, keys, [limit, WINDOW_MS, now - windowStart]),
    )) as [number, number];
    if (allowed === 1) return;
    throw apiError('RATE_LIMITED', `rate limit of ${limit} requests per minute exceeded`, {
      retryAfterMs: waitMs,
    });
  }
}
