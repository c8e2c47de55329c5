import { randomBytes } from 'node:crypto';
import { LuaScript } from './lua-script.ts';
import type { RedisClient } from './redis.ts';

/** KEYS: lease. ARGV: token. Deletes the lease only if this holder still has it. */
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/** KEYS: lease. ARGV: token, ttl ms. Extends the lease only if this holder still has it. */
const RENEW = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);

/**
 * A lease on one Redis key (`SET NX PX` with a random token): whoever holds it may act; it
 * expires by itself if the holder dies; only the holder can renew or release it.
 */
export class RedisLease {
  readonly key: string;
  /** The holder's token (scripts that finish the holder's work may delete the key with it). */
  readonly token: string;
  readonly #redis: RedisClient;
  readonly #ttlMs: number;

  private constructor(redis: RedisClient, key: string, token: string, ttlMs: number) {
    this.#redis = redis;
    this.key = key;
    this.token = token;
    this.#ttlMs = ttlMs;
  }

  /** The lease, or `undefined` when someone else holds it. */
  static async acquire(
    redis: RedisClient,
    key: string,
    ttlMs: number,
  ): Promise<RedisLease | undefined> {
    const token = randomBytes(12).toString('hex');
    const set = await redis.set(key, token, 'PX', ttlMs, 'NX');
    return set === 'OK' ? new RedisLease(redis, key, token, ttlMs) : undefined;
  }

  /** Extends the lease by its TTL; false if it was lost (expired, or taken over). */
  async renew(): Promise<boolean> {
    return (await RENEW.run(this.#redis, [this.key], [this.token, this.#ttlMs])) === 1;
  }

  /** Gives the lease up, if still held. */
  async release(): Promise<void> {
    await RELEASE.run(this.#redis, [this.key], [this.token]);
  }
}
