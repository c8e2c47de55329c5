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

export interface RateLimiterOptions {
  redis: RedisClient;
  guard: RedisGuard;
  prefix: string;
  /** Requests per window per key (`ATELIER_RATE_LIMIT_PER_MIN`). */
  limit: number;
  windowMs?: number;
}

/**
 * Per-API-key request limit kept in Redis, so every API replica shares it. Over the limit:
 * `RATE_LIMITED` (HTTP 429) with the time until a request would be let through.
 */
export class RateLimiter {
  readonly #o: Required<RateLimiterOptions>;

  constructor(options: RateLimiterOptions) {
    this.#o = { windowMs: 60_000, ...options };
  }

  async hit(keyFingerprint: string, now = Date.now()): Promise<void> {
    const { windowMs, limit, redis, guard, prefix } = this.#o;
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const key = (start: number) => `${prefix}:sys:api:rate:${keyFingerprint}:${start}`;
    const keys = [key(windowStart), key(windowStart - windowMs)];
    const [allowed, waitMs] = (await guard.run(() =>
      HIT.run(redis, keys, [limit, windowMs, now - windowStart]),
    )) as [number, number];
    if (allowed === 1) return;
    throw apiError('RATE_LIMITED', `rate limit of ${limit} requests per minute exceeded`, {
      retryAfterMs: waitMs,
    });
  }
}
