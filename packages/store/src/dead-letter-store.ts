import { atelierKeys, type DeadLetter } from '@atelier/shared';
import { HOLDS_LOCK_LUA, type JobLock, lockKeyOf } from './job-fence.ts';
import { LockLostError } from './lock-lost-error.ts';
import { LuaScript } from './lua-script.ts';
import type { RedisClient } from './redis.ts';

export interface DeadLetterFilter {
  queue?: string;
  code?: string;
  batchId?: string;
  /** Inclusive bounds on `failedAt` (epoch ms). */
  since?: number;
  until?: number;
}

export interface DeadLetterPage {
  items: DeadLetter[];
  total: number;
}

/**
 * Inserts the entry unless one exists for the job id: the entry hash, a time index and
 * indexes by code, queue and batch. `o`: where the entry hash is in KEYS (the index keys
 * follow it). ARGV: id, JSON, failedAt, code. Returns 1 when inserted, 0 when kept.
 */
const INSERT_LUA = `
local function insertEntry(o)
  if redis.call('HSETNX', KEYS[o], ARGV[1], ARGV[2]) == 0 then return 0 end
  redis.call('ZADD', KEYS[o + 1], ARGV[3], ARGV[1])
  redis.call('ZADD', KEYS[o + 2], ARGV[3], ARGV[1])
  redis.call('ZADD', KEYS[o + 3], ARGV[3], ARGV[1])
  redis.call('HINCRBY', KEYS[o + 4], ARGV[4], 1)
  if KEYS[o + 5] then redis.call('ZADD', KEYS[o + 5], ARGV[3], ARGV[1]) end
  return 1
end
`;

/** All in one script. KEYS: entries, time index, code, queue, codes[, batch]. */
const INSERT = new LuaScript(`${INSERT_LUA}
return insertEntry(1)
`);

/**
 * The same, only while the filing worker holds the job's lock (-1 when it does not).
 * KEYS: job hash, lock, then as INSERT. ARGV: as INSERT, then the lock token.
 */
const FENCED_INSERT = new LuaScript(`${HOLDS_LOCK_LUA}${INSERT_LUA}
if not holdsLock(KEYS[1], KEYS[2], ARGV[5]) then return -1 end
return insertEntry(3)
`);

/**
 * INSERT for a job BullMQ failed, only while it is still failed as it was read: in the failed
 * set with the same `finishedOn` and attempts (BullMQ reads `attemptsMade`, else `atm`). A job
 * replayed, retried or removed since answers -1 and nothing is written.
 * KEYS: failed set, job hash, then INSERT's. ARGV: INSERT's, finishedOn, attemptsMade.
 */
const INSERT_IF_FAILED = new LuaScript(`${INSERT_LUA}
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return -1 end
local job = redis.call('HMGET', KEYS[2], 'finishedOn', 'attemptsMade', 'atm')
if job[1] ~= ARGV[5] or tonumber(job[2] or job[3] or '0') ~= tonumber(ARGV[6]) then return -1 end
return insertEntry(3)
`);

/** A job as BullMQ recorded its failure, read before filing it (`insertIfFailed`). */
export interface FailedJobRecord {
  /** The queue's failed set (BullMQ's `toKey('failed')`). */
  failedKey: string;
  /** The job hash (BullMQ's `toKey(id)`). */
  jobKey: string;
  finishedOn: number;
  attemptsMade: number;
}

/**
 * Removes the entry and its index rows if it is still the JSON read before (ARGV[3]: its
 * index keys depend on its code and batch); returns the removed JSON (or false).
 */
const REMOVE = new LuaScript(`
local json = redis.call('HGET', KEYS[1], ARGV[1])
if not json or json ~= ARGV[3] then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
if redis.call('HINCRBY', KEYS[5], ARGV[2], -1) <= 0 then redis.call('HDEL', KEYS[5], ARGV[2]) end
if KEYS[6] then redis.call('ZREM', KEYS[6], ARGV[1]) end
return json
`);

/**
 * A page of entries of one index, newest first, with how many the index holds in the time
 * range: count, ids and entries in one script (a page never counts an entry it lacks).
 * KEYS: index, entries. ARGV: max, min, offset, limit. Returns {total, entry JSON...}.
 */
const PAGE = new LuaScript(`
local total = redis.call('ZCOUNT', KEYS[1], ARGV[2], ARGV[1])
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', ARGV[3], ARGV[4])
local page = {total}
for i = 1, #ids, 500 do
  local entries = redis.call('HMGET', KEYS[2], unpack(ids, i, math.min(i + 499, #ids)))
  for _, json in ipairs(entries) do if json then page[#page + 1] = json end end
end
return page
`);

/**
 * The dead-letter queue: one entry per job id, in Redis under the deployment's prefix.
 * Used by workers (insert), the API, CLI and dashboard (list, get, remove for replay/purge).
 */
export class DeadLetterStore {
  readonly #redis: RedisClient;
  readonly #keys: ReturnType<typeof atelierKeys>['deadLetters'];

  constructor(redis: RedisClient, prefix: string) {
    this.#redis = redis;
    this.#keys = atelierKeys(prefix).deadLetters;
  }

  /**
   * Idempotent: returns false when an entry for this job id already exists (the first one
   * stays). With the job's `lock`, only while the filing worker holds it (else `LockLostError`:
   * another worker owns the job now and decides its end).
   */
  async insert(entry: DeadLetter, lock?: JobLock): Promise<boolean> {
    const args = [entry.id, JSON.stringify(entry), String(entry.failedAt), entry.code];
    if (!lock) return (await INSERT.run(this.#redis, this.#entryKeys(entry), args)) === 1;
    const inserted = await FENCED_INSERT.run(
      this.#redis,
      [lock.jobKey, lockKeyOf(lock.jobKey), ...this.#entryKeys(entry)],
      [...args, lock.token],
    );
    if (inserted === -1) throw new LockLostError(entry.id, 'filing its dead letter');
    return inserted === 1;
  }

  /**
   * `insert`, only while the job is still failed as `job` says (one script): `stale` when it
   * was replayed, retried or removed since it was read, and nothing is written.
   */
  async insertIfFailed(
    entry: DeadLetter,
    job: FailedJobRecord,
  ): Promise<'inserted' | 'exists' | 'stale'> {
    const result = await INSERT_IF_FAILED.run(
      this.#redis,
      [job.failedKey, job.jobKey, ...this.#entryKeys(entry)],
      [
        entry.id,
        JSON.stringify(entry),
        String(entry.failedAt),
        entry.code,
        String(job.finishedOn),
        String(job.attemptsMade),
      ],
    );
    return result === 1 ? 'inserted' : result === 0 ? 'exists' : 'stale';
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const json = await this.#redis.hget(this.#keys.entries, id);
    return json ? (JSON.parse(json) as DeadLetter) : undefined;
  }

  async has(id: string): Promise<boolean> {
    return (await this.#redis.hexists(this.#keys.entries, id)) === 1;
  }

  /**
   * Removes an entry (replay or purge); returns it, or undefined when there was none. With
   * `filing`, only that filing of the job (same `failedAt` and replay count) is removed — a
   * newer one, filed after a replay ran the job again, stays.
   */
  async remove(id: string, filing?: DeadLetter): Promise<DeadLetter | undefined> {
    const stored = await this.#redis.hget(this.#keys.entries, id);
    if (!stored) return undefined;
    const entry = JSON.parse(stored) as DeadLetter;
    if (filing && !sameFiling(entry, filing)) return undefined;
    // Compare-and-delete: the entry read above (its index keys depend on its code and batch).
    const json = await REMOVE.run(this.#redis, this.#entryKeys(entry), [id, entry.code, stored]);
    return typeof json === 'string' ? (JSON.parse(json) as DeadLetter) : undefined;
  }

  /** Entries newest first, filtered by queue, code, batch and time. */
  async list(
    filter: DeadLetterFilter = {},
    page: { offset?: number; limit?: number } = {},
  ): Promise<DeadLetterPage> {
    const { offset = 0, limit = 50 } = page;
    const plan = await this.#plan(filter);
    if (!plan.needsCheck) {
      // One index answers the filter: count it and read only the page (the index may be
      // huge), in one script.
      const [total, ...items] = (await PAGE.run(
        this.#redis,
        [plan.index, this.#keys.entries],
        [plan.max, plan.min, offset, limit],
      )) as [number, ...string[]];
      return { total, items: items.map((j) => JSON.parse(j) as DeadLetter) };
    }
    // Several indexes: the matching ids first, then their entries (one removed in between is
    // left out of the page).
    const ids = await this.#matching(filter, plan);
    const slice = ids.slice(offset, offset + limit);
    const items = slice.length === 0 ? [] : await this.#redis.hmget(this.#keys.entries, ...slice);
    return {
      total: ids.length,
      items: items.filter((j): j is string => j !== null).map((j) => JSON.parse(j) as DeadLetter),
    };
  }

  /** Ids matching a filter, newest first (the most selective index is read, the rest checked). */
  async ids(filter: DeadLetterFilter = {}): Promise<string[]> {
    return this.#matching(filter, await this.#plan(filter));
  }

  async #matching(filter: DeadLetterFilter, plan: Plan): Promise<string[]> {
    let ids = await this.#redis.zrevrangebyscore(plan.index, plan.max, plan.min);
    if (plan.needsCheck && ids.length > 0) {
      const others = this.#indexes(filter).filter((key) => key !== plan.index);
      const results = await Promise.all(others.map((key) => this.#scores(key, ids)));
      ids = ids.filter((_, i) => results.every((scores) => scores[i] !== null));
    }
    return ids;
  }

  /** The keys the insert and remove scripts touch for one entry: hash, time index, its indexes. */
  #entryKeys(entry: DeadLetter): string[] {
    const k = this.#keys;
    const keys = [k.entries, k.byTime, k.byCode(entry.code), k.byQueue(entry.queue), k.codes];
    if (entry.meta.batchId) keys.push(k.byBatch(entry.meta.batchId));
    return keys;
  }

  /** The indexes a filter names (each holds exactly the entries matching one of its fields). */
  #indexes(filter: DeadLetterFilter): string[] {
    const k = this.#keys;
    const keys: string[] = [];
    if (filter.batchId) keys.push(k.byBatch(filter.batchId));
    if (filter.code) keys.push(k.byCode(filter.code));
    if (filter.queue) keys.push(k.byQueue(filter.queue));
    return keys;
  }

  /**
   * The index to read for a filter: the smallest, within the time range, of those it names
   * (by `ZCOUNT`), or the time index; `needsCheck` when other fields remain to be checked.
   */
  async #plan(filter: DeadLetterFilter): Promise<Plan> {
    const max = filter.until === undefined ? '+inf' : String(filter.until);
    const min = filter.since === undefined ? '-inf' : String(filter.since);
    const named = this.#indexes(filter);
    if (named.length <= 1) {
      return { index: named[0] ?? this.#keys.byTime, min, max, needsCheck: false };
    }
    const sizes = await Promise.all(named.map((key) => this.#redis.zcount(key, min, max)));
    const smallest = sizes.indexOf(Math.min(...sizes));
    return { index: named[smallest] as string, min, max, needsCheck: true };
  }

  /** Number of entries per code. */
  async countByCode(): Promise<Record<string, number>> {
    const raw = await this.#redis.hgetall(this.#keys.codes);
    return Object.fromEntries(Object.entries(raw).map(([code, n]) => [code, Number(n)]));
  }

  async count(): Promise<number> {
    return this.#redis.hlen(this.#keys.entries);
  }

  /** How many entries there are, in all and per code, read together (one `MULTI`). */
  async counts(): Promise<{ total: number; byCode: Record<string, number> }> {
    const replies = await this.#redis
      .multi()
      .hlen(this.#keys.entries)
      .hgetall(this.#keys.codes)
      .exec();
    if (!replies) throw new Error('the dead-letter count transaction was aborted');
    for (const [error] of replies) if (error) throw error;
    const byCode = (replies[1]?.[1] ?? {}) as Record<string, string>;
    return {
      total: Number(replies[0]?.[1] ?? 0),
      byCode: Object.fromEntries(Object.entries(byCode).map(([code, n]) => [code, Number(n)])),
    };
  }

  /** Removes entries older than `olderThanMs` epoch; returns how many. */
  async purgeOlderThan(olderThanMs: number): Promise<number> {
    const ids = await this.#redis.zrangebyscore(this.#keys.byTime, '-inf', String(olderThanMs));
    let removed = 0;
    for (const id of ids) if (await this.remove(id)) removed++;
    return removed;
  }

  async #scores(key: string, ids: string[]): Promise<(string | null)[]> {
    return this.#redis.zmscore(key, ...ids);
  }
}

interface Plan {
  index: string;
  min: string;
  max: string;
  needsCheck: boolean;
}

/** The same filing of a job: a replayed job that dies again is filed with a higher count. */
export function sameFiling(a: DeadLetter, b: DeadLetter): boolean {
  return a.failedAt === b.failedAt && (a.meta.replays ?? 0) === (b.meta.replays ?? 0);
}
