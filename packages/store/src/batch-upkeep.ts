import type { AtelierKeys } from '@atelier/shared';
import { BATCH_LUA } from './batch-scripts.ts';
import { LuaScript } from './lua-script.ts';
import type { RedisClient } from './redis.ts';
import { RedisLease } from './redis-lease.ts';

/**
 * Brings batches from before the open set and retention up to date: open ones enter the open
 * set; finished ones without a TTL get the one they would have had (completedAt + ARGV[1] ms)
 * and — as nothing says whether a key named them — the marker that refuses their id to a new
 * batch (until + ARGV[2] ms). KEYS: open set, then record, items and marker of each id.
 * ARGV: ttl, goneTtl, then the ids.
 */
const UPGRADE = new LuaScript(`
local ttl, goneTtl = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 3, #ARGV do
  local k = 3 * (i - 3) + 2
  local meta, items, gone = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local m = redis.call('HMGET', meta, 'state', 'completedAt')
  if m[1] == 'open' or m[1] == 'paused' or m[1] == 'cancelling' then
    redis.call('SADD', KEYS[1], ARGV[i])
  elseif (m[1] == 'completed' or m[1] == 'incomplete' or m[1] == 'cancelled') and ttl > 0 and redis.call('PTTL', meta) == -1 then
    local at = tonumber(m[2]) or 0
    if at + ttl + goneTtl > nowMs then redis.call('SET', gone, at, 'PXAT', at + ttl + goneTtl) end
    redis.call('PEXPIREAT', meta, at + ttl)
    redis.call('PEXPIREAT', items, at + ttl)
  end
end
return 0
`);

/** KEYS: open set, then the record of each id. ARGV: the ids. Drops ids of batches that are over. */
const REPAIR_OPEN = new LuaScript(`${BATCH_LUA}
local removed = 0
for i = 1, #ARGV do
  if not unfinished(redis.call('HGET', KEYS[i + 1], 'state')) then
    redis.call('SREM', KEYS[1], ARGV[i])
    removed = removed + 1
  end
end
return removed
`);

/**
 * Drops the index entries, among the ids read from it just before, still created before
 * ARGV[1] whose record has expired; returns how many. KEYS: index, then the record of each
 * id. ARGV: createdBefore, then the ids (KEYS[i] is the record of ARGV[i]).
 */
const PRUNE_INDEX = new LuaScript(`
local removed = 0
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) < tonumber(ARGV[1]) and redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('ZREM', KEYS[1], ARGV[i])
    removed = removed + 1
  end
end
return removed
`);

/** Upkeep takes seconds on a large index; the lease outlives a crashed holder by little. */
const UPKEEP_LEASE_MS = 5 * 60_000;

/**
 * Keeps the batch ledger's index and open set true: the one-time upgrade of batches from
 * before the open set and retention, open-set repair, and pruning of expired index entries.
 */
export class BatchUpkeep {
  readonly #redis: RedisClient;
  readonly #keys: AtelierKeys['batch'];
  readonly #finishedTtlMs: number;
  readonly #goneTtlMs: number;

  constructor(
    redis: RedisClient,
    keys: AtelierKeys['batch'],
    retention: { finishedTtlMs: number; goneTtlMs: number },
  ) {
    this.#redis = redis;
    this.#keys = keys;
    this.#finishedTtlMs = retention.finishedTtlMs;
    this.#goneTtlMs = retention.goneTtlMs;
  }

  /** One pass, by one process at a time (a lease; `undefined` if another holds it). */
  async run(createdBefore: number): Promise<{ pruned: number; repaired: number } | undefined> {
    const lease = await RedisLease.acquire(this.#redis, this.#keys.upkeepLease, UPKEEP_LEASE_MS);
    if (!lease) return undefined;
    try {
      if ((await this.#redis.exists(this.#keys.upgraded)) === 0) {
        await this.#upgrade();
        await this.#redis.set(this.#keys.upgraded, String(Date.now()));
      }
      const repaired = await this.#repairOpen();
      const pruned = await this.pruneIndex(createdBefore);
      return { pruned, repaired };
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  /**
   * Removes the index entries of batches that expired (created before `createdBefore`, record
   * gone), reading the index a page at a time. Returns how many.
   */
  async pruneIndex(createdBefore: number, pageSize = 500): Promise<number> {
    const k = this.#keys;
    let offset = 0;
    let removed = 0;
    for (;;) {
      const ids = await this.#redis.zrangebyscore(
        k.index,
        '-inf',
        `(${createdBefore}`,
        'LIMIT',
        offset,
        pageSize,
      );
      const gone =
        ids.length === 0
          ? 0
          : ((await PRUNE_INDEX.run(
              this.#redis,
              [k.index, ...ids.map((id) => k.meta(id))],
              [String(createdBefore), ...ids],
            )) as number);
      removed += gone;
      offset += ids.length - gone;
      if (ids.length < pageSize) return removed;
    }
  }

  /** ZSCAN: every id in the index for the whole walk is seen, whatever others remove meanwhile. */
  async #upgrade(): Promise<void> {
    const k = this.#keys;
    let cursor = '0';
    do {
      const [next, flat] = await this.#redis.zscan(k.index, cursor, 'COUNT', 1000);
      cursor = next;
      const ids = flat.filter((_, i) => i % 2 === 0);
      if (ids.length > 0) {
        await UPGRADE.run(
          this.#redis,
          [k.open, ...ids.flatMap((id) => [k.meta(id), k.items(id), k.gone(id)])],
          [String(this.#finishedTtlMs), String(this.#goneTtlMs), ...ids],
        );
      }
    } while (cursor !== '0');
  }

  async #repairOpen(): Promise<number> {
    const k = this.#keys;
    let cursor = '0';
    let removed = 0;
    do {
      const [next, ids] = await this.#redis.sscan(k.open, cursor, 'COUNT', 500);
      cursor = next;
      if (ids.length > 0) {
        removed += (await REPAIR_OPEN.run(
          this.#redis,
          [k.open, ...ids.map((id) => k.meta(id))],
          ids,
        )) as number;
      }
    } while (cursor !== '0');
    return removed;
  }
}
