import { atelierKeys, type RetentionOptions } from '@atelier/shared';
import type { RedisClient } from './redis.ts';
import { RedisLease } from './redis-lease.ts';

export type BatchState = 'open' | 'completed';
export type BatchItemState = 'completed' | 'dead';

export interface BatchInfo {
  id: string;
  total: number;
  completed: number;
  dead: number;
  pending: number;
  state: BatchState;
  createdAt: number;
  /** Items enqueued so far (equals `total` once the batch is fully accepted). */
  enqueued: number;
  callbackUrl?: string;
  completedAt?: number;
}

/** One line of a batch's results, in input order. */
export interface BatchItemResult {
  index: number;
  jobId: string;
  state: BatchItemState | 'pending';
  images?: string[];
  taskId?: string;
  code?: string;
  message?: string;
}

/**
 * Lua shared by the two scripts that can finish a batch (the last item settled, or the last
 * chunk counted): state, open set, retention TTLs, and — for a batch named by an idempotency
 * key — a marker that outlives the record so the key cannot silently start the same ids again.
 */
const FINISH = `
local function finish(meta, items, open, gone, id, at, ttl, goneTtl)
  redis.call('HSET', meta, 'state', 'completed', 'completedAt', at)
  redis.call('SREM', open, id)
  if tonumber(ttl) > 0 then
    redis.call('PEXPIRE', meta, ttl)
    redis.call('PEXPIRE', items, ttl)
    if redis.call('HGET', meta, 'keyed') == '1' then
      redis.call('SET', gone, at, 'PX', tonumber(ttl) + tonumber(goneTtl))
    end
  end
end
`;

/**
 * Records an item's outcome once. Counters move only when the item's state changes, so an
 * item retried, replayed or settled twice by a crashed worker is counted once. Returns
 * {changed, justFinished, finished}: justFinished is 1 for exactly one call per completion;
 * finished says the batch is completed after this call (whoever completed it).
 * KEYS: meta, items, open, gone. ARGV: index, value, now, ttl, id, goneTtl.
 * Item values are "<c|d>|<json>".
 */
const SETTLE = `${FINISH}
local function finished() return redis.call('HGET', KEYS[1], 'state') == 'completed' and 1 or 0 end
local prev = redis.call('HGET', KEYS[2], ARGV[1])
local new = ARGV[2]
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, 0} end
if prev and string.sub(prev, 1, 1) == string.sub(new, 1, 1) then return {0, 0, finished()} end
redis.call('HSET', KEYS[2], ARGV[1], new)
if prev then
  if string.sub(prev, 1, 1) == 'd' then redis.call('HINCRBY', KEYS[1], 'dead', -1) end
  if string.sub(prev, 1, 1) == 'c' then redis.call('HINCRBY', KEYS[1], 'completed', -1) end
end
if string.sub(new, 1, 1) == 'c' then redis.call('HINCRBY', KEYS[1], 'completed', 1)
else redis.call('HINCRBY', KEYS[1], 'dead', 1) end
local m = redis.call('HMGET', KEYS[1], 'total', 'completed', 'dead', 'state', 'enqueued')
local total, done = tonumber(m[1]), tonumber(m[2]) + tonumber(m[3])
if m[4] == 'open' and done >= total and tonumber(m[5]) >= total then
  finish(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[5], ARGV[3], ARGV[4], ARGV[6])
  return {1, 1, 1}
end
return {1, 0, finished()}
`;

/**
 * Undoes a dead item (its dead letter is being replayed): pending again, batch reopened, and
 * kept until it finishes again (a finished batch's keys carry its retention as a TTL).
 * KEYS: meta, items, open. ARGV: index, id.
 */
const REOPEN = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local prev = redis.call('HGET', KEYS[2], ARGV[1])
if not prev or string.sub(prev, 1, 1) ~= 'd' then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'dead', -1)
redis.call('HSET', KEYS[1], 'state', 'open')
redis.call('HDEL', KEYS[1], 'completedAt')
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
return 1
`;

/**
 * Creates the record and indexes it, unless it exists (0) or a batch of that id finished and
 * expired recently (-1: its item ids may still name old jobs and dead letters).
 * KEYS: meta, index, open, gone. ARGV: id, createdAt, field/value pairs.
 */
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('EXISTS', KEYS[4]) == 1 then return -1 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`;

/**
 * Counts enqueued items; finishes the batch if every item had already settled (returns 2).
 * KEYS: meta, items, open, gone. ARGV: count, now, ttl, id, goneTtl.
 */
const ENQUEUED = `${FINISH}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local enq = redis.call('HINCRBY', KEYS[1], 'enqueued', tonumber(ARGV[1]))
local m = redis.call('HMGET', KEYS[1], 'total', 'completed', 'dead', 'state')
if m[4] == 'open' and enq >= tonumber(m[1]) and tonumber(m[2]) + tonumber(m[3]) >= tonumber(m[1]) then
  finish(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[4], ARGV[2], ARGV[3], ARGV[5])
  return 2
end
return 1
`;

/**
 * Brings batches from before the open set and retention up to date (ids in ARGV[4..]): open
 * ones enter the open set; finished ones without a TTL get the one they would have had
 * (completedAt + ARGV[2] ms) and — as nothing says whether a key named them — the marker that
 * refuses their id to a new batch (until + ARGV[3] ms). KEYS: open set. ARGV[1]: record key
 * without the id.
 */
const UPGRADE = `
local ttl, goneTtl = tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 4, #ARGV do
  local id = ARGV[i]
  local meta = ARGV[1] .. id
  local m = redis.call('HMGET', meta, 'state', 'completedAt')
  if m[1] == 'open' then
    redis.call('SADD', KEYS[1], id)
  elseif m[1] == 'completed' and ttl > 0 and redis.call('PTTL', meta) == -1 then
    local at = tonumber(m[2]) or 0
    if at + ttl + goneTtl > nowMs then redis.call('SET', meta .. ':gone', at, 'PXAT', at + ttl + goneTtl) end
    redis.call('PEXPIREAT', meta, at + ttl)
    redis.call('PEXPIREAT', meta .. ':items', at + ttl)
  end
end
return 0
`;

/** KEYS: meta. ARGV: completedAt. Notes that this completion was announced. */
const MARK_ANNOUNCED = `
if redis.call('HGET', KEYS[1], 'completedAt') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'announced', ARGV[1])
return 1
`;

/** KEYS: open set. ARGV: record key without the id, then ids. Drops ids that are not open. */
const REPAIR_OPEN = `
local removed = 0
for i = 2, #ARGV do
  if redis.call('HGET', ARGV[1] .. ARGV[i], 'state') ~= 'open' then
    redis.call('SREM', KEYS[1], ARGV[i])
    removed = removed + 1
  end
end
return removed
`;

/**
 * Drops index entries of batches created before ARGV[1] whose record has expired. Pages by
 * ARGV[3] offset / ARGV[4] limit; returns {examined, removed}. ARGV[2] is the record key
 * without the id (all keys share the deployment's hash tag).
 */
const PRUNE_INDEX = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', ARGV[3], ARGV[4])
local removed = 0
for _, id in ipairs(ids) do
  if redis.call('EXISTS', ARGV[2] .. id) == 0 then
    redis.call('ZREM', KEYS[1], id)
    removed = removed + 1
  end
end
return {#ids, removed}
`;

/**
 * Exact progress and results of bulk batches, shared by the producer (create, read) and
 * workers (settle items). Keys live under the deployment prefix.
 */
export class BatchLedger {
  readonly #redis: RedisClient;
  readonly #keys: ReturnType<typeof atelierKeys>['batch'];
  readonly #finishedTtlMs: number;
  readonly #goneTtlMs: number;

  /**
   * `finishedAgeSec`: a batch's record and result lines expire this long after it finishes
   * (`ATELIER_KEEP_BATCH_AGE_SEC`); a replay that reopens it keeps it again. Unset: kept.
   * `keyReuseBlockedSec`: after a batch named by an idempotency key expires, that key is
   * refused this much longer (its item ids may still name retained jobs and dead letters).
   */
  constructor(
    redis: RedisClient,
    prefix: string,
    options: { finishedAgeSec?: number; keyReuseBlockedSec?: number } = {},
  ) {
    this.#redis = redis;
    this.#keys = atelierKeys(prefix).batch;
    this.#finishedTtlMs = (options.finishedAgeSec ?? 0) * 1000;
    this.#goneTtlMs = (options.keyReuseBlockedSec ?? 0) * 1000;
  }

  /**
   * Creates the batch record (before its items are enqueued): `exists` if it already exists,
   * `expired` if a batch of this id finished and was removed by retention not long ago.
   * `keyed`: the id comes from an idempotency key (and could be asked for again).
   */
  async create(
    id: string,
    total: number,
    options: { callbackUrl?: string; createdAt?: number; keyed?: boolean } = {},
  ): Promise<'created' | 'exists' | 'expired'> {
    const createdAt = options.createdAt ?? Date.now();
    const fields: Record<string, string> = {
      total: String(total),
      completed: '0',
      dead: '0',
      enqueued: '0',
      state: 'open',
      createdAt: String(createdAt),
    };
    if (options.callbackUrl) fields.callbackUrl = options.callbackUrl;
    if (options.keyed) fields.keyed = '1';
    const flat = Object.entries(fields).flat();
    const created = await this.#redis.eval(
      CREATE,
      4,
      this.#keys.meta(id),
      this.#keys.index,
      this.#keys.open,
      this.#keys.gone(id),
      id,
      String(createdAt),
      ...flat,
    );
    return created === 1 ? 'created' : created === 0 ? 'exists' : 'expired';
  }

  /**
   * Records that `count` more items are in the queue. `finishedAt` is set when that finished
   * the batch (every item had settled already): the caller announces it.
   */
  async markEnqueued(id: string, count: number): Promise<{ finishedAt?: number }> {
    const now = Date.now();
    const result = await this.#redis.eval(
      ENQUEUED,
      4,
      this.#keys.meta(id),
      this.#keys.items(id),
      this.#keys.open,
      this.#keys.gone(id),
      String(count),
      String(now),
      String(this.#finishedTtlMs),
      id,
      String(this.#goneTtlMs),
    );
    return result === 2 ? { finishedAt: now } : {};
  }

  /**
   * Records an item's final state and result line. Idempotent per (item, state).
   * `batchCompleted` is true for exactly one call: the one that settled the last item (then
   * `finishedAt` is the completion's time). `finished` says the batch is completed now,
   * whoever completed it (a repeated settle uses it to announce a completion again).
   */
  async settle(
    id: string,
    result: BatchItemResult & { state: BatchItemState },
  ): Promise<{
    changed: boolean;
    batchCompleted: boolean;
    finished: boolean;
    finishedAt?: number;
  }> {
    const value = `${result.state === 'completed' ? 'c' : 'd'}|${JSON.stringify(result)}`;
    const now = Date.now();
    const reply = (await this.#redis.eval(
      SETTLE,
      4,
      this.#keys.meta(id),
      this.#keys.items(id),
      this.#keys.open,
      this.#keys.gone(id),
      String(result.index),
      value,
      String(now),
      String(this.#finishedTtlMs),
      id,
      String(this.#goneTtlMs),
    )) as [number, number, number];
    const batchCompleted = reply[1] === 1;
    return {
      changed: reply[0] === 1,
      batchCompleted,
      finished: reply[2] === 1,
      ...(batchCompleted ? { finishedAt: now } : {}),
    };
  }

  /** A dead item is being replayed: back to pending; the batch reopens. */
  async reopen(id: string, index: number): Promise<boolean> {
    const result = await this.#redis.eval(
      REOPEN,
      3,
      this.#keys.meta(id),
      this.#keys.items(id),
      this.#keys.open,
      String(index),
      id,
    );
    return result === 1;
  }

  async get(id: string): Promise<BatchInfo | undefined> {
    const raw = await this.#redis.hgetall(this.#keys.meta(id));
    if (!raw.total) return undefined;
    const total = Number(raw.total);
    const completed = Number(raw.completed ?? 0);
    const dead = Number(raw.dead ?? 0);
    return {
      id,
      total,
      completed,
      dead,
      pending: total - completed - dead,
      state: raw.state === 'completed' ? 'completed' : 'open',
      createdAt: Number(raw.createdAt),
      enqueued: Number(raw.enqueued ?? 0),
      ...(raw.callbackUrl ? { callbackUrl: raw.callbackUrl } : {}),
      ...(raw.completedAt ? { completedAt: Number(raw.completedAt) } : {}),
    };
  }

  /** Settled result lines for a range of item indexes (missing = still pending). */
  async results(
    id: string,
    fromIndex: number,
    count: number,
  ): Promise<Array<BatchItemResult | undefined>> {
    if (count <= 0) return [];
    const fields = Array.from({ length: count }, (_, i) => String(fromIndex + i));
    const values = await this.#redis.hmget(this.#keys.items(id), ...fields);
    return values.map((v) => (v ? (JSON.parse(v.slice(2)) as BatchItemResult) : undefined));
  }

  /** Batch ids, newest first. */
  async list(limit = 50, offset = 0): Promise<string[]> {
    return this.#redis.zrevrange(this.#keys.index, offset, offset + limit - 1);
  }

  /** How many batches are not finished yet: one `SCARD` of the set the ledger's scripts keep. */
  async openCount(): Promise<number> {
    return this.#redis.scard(this.#keys.open);
  }

  /**
   * Upkeep, by one process at a time (a lease; false if another holds it): once per
   * deployment, enters batches from before the open set into it and gives finished ones the
   * retention TTL they lack; drops open-set members that are not open (written by an older
   * version during an upgrade); drops index entries of batches created before `createdBefore`
   * whose record expired.
   */
  async upkeep(createdBefore: number): Promise<{ pruned: number; repaired: number } | undefined> {
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

  /** ZSCAN: every id in the index for the whole walk is seen, whatever others remove meanwhile. */
  async #upgrade(): Promise<void> {
    const recordKeyPrefix = this.#keys.meta('');
    let cursor = '0';
    do {
      const [next, flat] = await this.#redis.zscan(this.#keys.index, cursor, 'COUNT', 1000);
      cursor = next;
      const ids = flat.filter((_, i) => i % 2 === 0);
      if (ids.length > 0) {
        await this.#redis.eval(
          UPGRADE,
          1,
          this.#keys.open,
          recordKeyPrefix,
          String(this.#finishedTtlMs),
          String(this.#goneTtlMs),
          ...ids,
        );
      }
    } while (cursor !== '0');
  }

  /** Notes that the completion at `completedAt` was announced (no-op if it was reopened since). */
  async markAnnounced(id: string, completedAt: number): Promise<void> {
    await this.#redis.eval(MARK_ANNOUNCED, 1, this.#keys.meta(id), String(completedAt));
  }

  /** Whether the completion at `completedAt` was announced already. */
  async wasAnnounced(id: string, completedAt: number): Promise<boolean> {
    return (await this.#redis.hget(this.#keys.meta(id), 'announced')) === String(completedAt);
  }

  async #repairOpen(): Promise<number> {
    const recordKeyPrefix = this.#keys.meta('');
    let cursor = '0';
    let removed = 0;
    do {
      const [next, ids] = await this.#redis.sscan(this.#keys.open, cursor, 'COUNT', 500);
      cursor = next;
      if (ids.length > 0) {
        removed += (await this.#redis.eval(
          REPAIR_OPEN,
          1,
          this.#keys.open,
          recordKeyPrefix,
          ...ids,
        )) as number;
      }
    } while (cursor !== '0');
    return removed;
  }

  /**
   * Removes the index entries of batches that expired (created before `createdBefore`, record
   * gone). Open batches and batches still within their retention are kept. Returns how many.
   */
  async pruneIndex(createdBefore: number, pageSize = 500): Promise<number> {
    const recordKeyPrefix = this.#keys.meta('');
    let offset = 0;
    let removed = 0;
    for (;;) {
      const [examined, gone] = (await this.#redis.eval(
        PRUNE_INDEX,
        1,
        this.#keys.index,
        String(createdBefore),
        recordKeyPrefix,
        String(offset),
        String(pageSize),
      )) as [number, number];
      removed += gone;
      offset += examined - gone;
      if (examined < pageSize) return removed;
    }
  }
}

/**
 * The ledger's retention from the deployment's: finished batches kept `batchAgeSec`; a keyed
 * batch's id refused after that for as long as its items' jobs or dead letters may be kept.
 */
export function ledgerRetention(retention: Required<RetentionOptions>) {
  return {
    finishedAgeSec: retention.batchAgeSec,
    keyReuseBlockedSec: Math.max(
      retention.deadLetterAgeSec,
      retention.failedAgeSec,
      retention.completedAgeSec,
    ),
  };
}

/** Upkeep takes seconds on a large index; the lease outlives a crashed holder by little. */
const UPKEEP_LEASE_MS = 5 * 60_000;
