import type { RedisClient } from './redis.ts';
import { atelierKeys } from './redis-keys.ts';

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
 * Records an item's outcome once. Counters move only when the item's state changes, so an
 * item retried, replayed or settled twice by a crashed worker is counted once. Returns
 * {changed, batchJustCompleted} — the latter is 1 for exactly one call per completion.
 * Item values are "<c|d>|<json>".
 */
const SETTLE = `
local prev = redis.call('HGET', KEYS[2], ARGV[1])
local new = ARGV[2]
if prev and string.sub(prev, 1, 1) == string.sub(new, 1, 1) then return {0, 0} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0} end
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
  redis.call('HSET', KEYS[1], 'state', 'completed', 'completedAt', ARGV[3])
  redis.call('SREM', KEYS[3], ARGV[5])
  if tonumber(ARGV[4]) > 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[4])
    redis.call('PEXPIRE', KEYS[2], ARGV[4])
  end
  return {1, 1}
end
return {1, 0}
`;

/**
 * Undoes a dead item (its dead letter is being replayed): pending again, batch reopened, and
 * kept until it finishes again (a finished batch's keys carry its retention as a TTL).
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

/** Creates the record and indexes it, unless it exists. */
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`;

/** Counts enqueued items; completes the batch if every item had already settled. */
const ENQUEUED = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local enq = redis.call('HINCRBY', KEYS[1], 'enqueued', tonumber(ARGV[1]))
local m = redis.call('HMGET', KEYS[1], 'total', 'completed', 'dead', 'state')
if m[4] == 'open' and enq >= tonumber(m[1]) and tonumber(m[2]) + tonumber(m[3]) >= tonumber(m[1]) then
  redis.call('HSET', KEYS[1], 'state', 'completed', 'completedAt', ARGV[2])
  redis.call('SREM', KEYS[3], ARGV[4])
  if tonumber(ARGV[3]) > 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    redis.call('PEXPIRE', KEYS[2], ARGV[3])
  end
  return 2
end
return 1
`;

/**
 * Enters the open batches among one page of the index (ARGV[2] offset, ARGV[3] limit) into
 * the open set: once, for batches created before the set existed. Returns the page's size.
 */
const INDEX_OPEN = `
local ids = redis.call('ZRANGE', KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[2]) + tonumber(ARGV[3]) - 1)
for _, id in ipairs(ids) do
  if redis.call('HGET', ARGV[1] .. id, 'state') == 'open' then redis.call('SADD', KEYS[2], id) end
end
return #ids
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
  #openIndexed = false;

  /**
   * `finishedAgeSec`: a batch's record and result lines expire this long after it finishes
   * (`ATELIER_KEEP_BATCH_AGE_SEC`); a replay that reopens it keeps it again. Unset: kept.
   */
  constructor(redis: RedisClient, prefix: string, options: { finishedAgeSec?: number } = {}) {
    this.#redis = redis;
    this.#keys = atelierKeys(prefix).batch;
    this.#finishedTtlMs = (options.finishedAgeSec ?? 0) * 1000;
  }

  /** Creates the batch record (before its items are enqueued). False if it already exists. */
  async create(
    id: string,
    total: number,
    options: { callbackUrl?: string; createdAt?: number } = {},
  ): Promise<boolean> {
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
    const flat = Object.entries(fields).flat();
    const created = await this.#redis.eval(
      CREATE,
      3,
      this.#keys.meta(id),
      this.#keys.index,
      this.#keys.open,
      id,
      String(createdAt),
      ...flat,
    );
    if (created === 0) return false;
    return true;
  }

  /** Records that `count` more items are in the queue; returns true if that completed the batch. */
  async markEnqueued(id: string, count: number): Promise<boolean> {
    const result = await this.#redis.eval(
      ENQUEUED,
      3,
      this.#keys.meta(id),
      this.#keys.items(id),
      this.#keys.open,
      String(count),
      String(Date.now()),
      String(this.#finishedTtlMs),
      id,
    );
    return result === 2;
  }

  /**
   * Records an item's final state and result line. Idempotent per (item, state).
   * `batchCompleted` is true for exactly one call: the one that settled the last item.
   */
  async settle(
    id: string,
    result: BatchItemResult & { state: BatchItemState },
  ): Promise<{ changed: boolean; batchCompleted: boolean }> {
    const value = `${result.state === 'completed' ? 'c' : 'd'}|${JSON.stringify(result)}`;
    const reply = (await this.#redis.eval(
      SETTLE,
      3,
      this.#keys.meta(id),
      this.#keys.items(id),
      this.#keys.open,
      String(result.index),
      value,
      String(Date.now()),
      String(this.#finishedTtlMs),
      id,
    )) as [number, number];
    return { changed: reply[0] === 1, batchCompleted: reply[1] === 1 };
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

  /**
   * How many batches are not finished yet (exact: a set kept by the ledger's own scripts). The
   * first call on a deployment older than that set enters its open batches once.
   */
  async openCount(): Promise<number> {
    if (!this.#openIndexed) {
      if ((await this.#redis.exists(this.#keys.openIndexed)) === 0) await this.#indexOpen();
      this.#openIndexed = true;
    }
    return this.#redis.scard(this.#keys.open);
  }

  async #indexOpen(pageSize = 1000): Promise<void> {
    const recordKeyPrefix = this.#keys.meta('');
    for (let offset = 0; ; offset += pageSize) {
      const size = (await this.#redis.eval(
        INDEX_OPEN,
        2,
        this.#keys.index,
        this.#keys.open,
        recordKeyPrefix,
        String(offset),
        String(pageSize),
      )) as number;
      if (size < pageSize) break;
    }
    await this.#redis.set(this.#keys.openIndexed, String(Date.now()));
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

  /** Batch ids, newest first. */
  async list(limit = 50, offset = 0): Promise<string[]> {
    return this.#redis.zrevrange(this.#keys.index, offset, offset + limit - 1);
  }
}
