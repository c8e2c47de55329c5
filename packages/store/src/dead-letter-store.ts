import { atelierKeys, type DeadLetter, jobTenant } from '@atelier/shared';
import { HOLDS_LOCK_LUA, type JobLock, lockKeyOf } from './job-fence.ts';
import { LockLostError } from './lock-lost-error.ts';
import { LuaScript } from './lua-script.ts';
import type { RedisClient } from './redis.ts';

export interface DeadLetterFilter {
  queue?: string;
  code?: string;
  batchId?: string;
  /** Entries of one tenant's jobs. */
  tenant?: string;
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
 * indexes by code, queue, tenant and batch. `o`: where the entry hash is in KEYS (the index
 * keys follow it). ARGV: id, JSON, failedAt, code. Returns 1 when inserted, 0 when kept.
 */
const INSERT_LUA = `
local function insertEntry(o)
  if redis.call('HSETNX', KEYS[o], ARGV[1], ARGV[2]) == 0 then return 0 end
  redis.call('ZADD', KEYS[o + 1], ARGV[3], ARGV[1])
  redis.call('ZADD', KEYS[o + 2], ARGV[3], ARGV[1])
  redis.call('ZADD', KEYS[o + 3], ARGV[3], ARGV[1])
  redis.call('HINCRBY', KEYS[o + 4], ARGV[4], 1)
  redis.call('ZADD', KEYS[o + 5], ARGV[3], ARGV[1])
  if KEYS[o + 6] then redis.call('ZADD', KEYS[o + 6], ARGV[3], ARGV[1]) end
  return 1
end
`;

/** All in one script. KEYS: entries, time index, code, queue, codes, tenant[, batch]. */
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
redis.call('ZREM', KEYS[6], ARGV[1])
if KEYS[7] then redis.call('ZREM', KEYS[7], ARGV[1]) end
return json
`);

/**
 * Enters entries filed before the tenant index was kept into it (each under its own tenant,
 * as filed: `meta.tenant`, else default), a page of the time index at a time; when a page comes
 * back short, sets the marker. KEYS: time index, entries, marker, then the tenant index of
 * each tenant ARGV names. ARGV: offset, count, tenant names (the index of a tenant not named
 * is not written: the caller reads the page again naming it). Returns {read, missing tenant…}.
 */
const INDEX_TENANTS = new LuaScript(`
local rows = redis.call('ZRANGE', KEYS[1], ARGV[1], tonumber(ARGV[1]) + tonumber(ARGV[2]) - 1, 'WITHSCORES')
local indexes = {}
for i = 3, #ARGV do indexes[ARGV[i]] = KEYS[i + 1] end
local missing, adds = {}, {}
for i = 1, #rows, 2 do
  local json = redis.call('HGET', KEYS[2], rows[i])
  if json then
    local ok, entry = pcall(cjson.decode, json)
    local tenant = 'default'
    if ok and type(entry.meta) == 'table' and type(entry.meta.tenant) == 'string' then tenant = entry.meta.tenant end
    if indexes[tenant] then adds[#adds + 1] = {indexes[tenant], rows[i + 1], rows[i]}
    else missing[tenant] = true end
  end
end
local out = {#rows / 2}
for tenant in pairs(missing) do out[#out + 1] = tenant end
if #out > 1 then return out end
for _, p in ipairs(adds) do redis.call('ZADD', p[1], p[2], p[3]) end
if #rows / 2 < tonumber(ARGV[2]) then redis.call('SET', KEYS[3], '1') end
return out
`);

/** Entries entered into the tenant index per script call while it is brought up to date. */
const INDEX_PAGE = 500;

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
 * One chunk of an index, newest first, checked against the other indexes a filter names: a
 * bounded read (ARGV[3] ids) however large the indexes are. The chunk starts at score ARGV[1]
 * (inclusive), skipping the ids at exactly that score that were read before and are still
 * there (ARGV[6..]: ties are read in a fixed order, so those come first). Of the ids that
 * match, only those from the ARGV[4]th (0-based) on, ARGV[5] at most, are returned; all are
 * counted. KEYS: the index read, then the other indexes to check. ARGV: max, min, count, keep
 * from, keep count, seen ids. Returns {read, matched, last score, ids read at the last score…,
 * '|', kept ids…}.
 */
const CHUNK = new LuaScript(`
local skip = 0
for i = 6, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then skip = skip + 1 end
end
local rows = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2], 'WITHSCORES', 'LIMIT', skip, tonumber(ARGV[3]))
if #rows == 0 then return {0, 0, ARGV[1], '|'} end
local last = rows[#rows]
local out = {#rows / 2, 0, last}
for i = 1, #rows, 2 do
  if rows[i + 1] == last then out[#out + 1] = rows[i] end
end
out[#out + 1] = '|'
local ids = {}
for i = 1, #rows, 2 do ids[#ids + 1] = rows[i] end
local present = {}
for k = 2, #KEYS do
  present[k] = {}
  for i = 1, #ids, 4000 do
    local scores = redis.call('ZMSCORE', KEYS[k], unpack(ids, i, math.min(i + 3999, #ids)))
    for j = 1, #scores do present[k][i + j - 1] = scores[j] end
  end
end
local from, keep, matched = tonumber(ARGV[4]), tonumber(ARGV[5]), 0
for i = 1, #ids do
  local match = true
  for k = 2, #KEYS do
    if not present[k][i] then match = false break end
  end
  if match then
    if matched >= from and matched < from + keep then out[#out + 1] = ids[i] end
    matched = matched + 1
  end
end
out[2] = matched
return out
`);

/** Ids read at once by a bulk action (and handed to it). */
const MATCH_CHUNK = 2000;
/** Ids read at once to count the entries a filter matches (only the page's are sent back). */
const COUNT_CHUNK = 5000;

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
    // Several indexes: the smallest is read a bounded chunk at a time, the others checked in
    // the same script; the page's ids are kept, the rest only counted. Then the page's entries
    // (one removed in between is left out of the page).
    let total = 0;
    const slice: string[] = [];
    const window = () => ({ from: Math.max(0, offset - total), count: limit - slice.length });
    for await (const chunk of this.#chunks(filter, plan, COUNT_CHUNK, window)) {
      slice.push(...chunk.ids);
      total += chunk.matched;
    }
    const items = slice.length === 0 ? [] : await this.#redis.hmget(this.#keys.entries, ...slice);
    return {
      total,
      items: items.filter((j): j is string => j !== null).map((j) => JSON.parse(j) as DeadLetter),
    };
  }

  /**
   * Ids matching a filter, newest first, at most `chunkSize` at a time (the most selective
   * index is read, the rest checked): memory stays bounded however many match. The next chunk
   * is read when the consumer asks for it, after the previous one — removing the entries of a
   * chunk (replay, purge) before asking for the next is what bulk actions do, and loses none.
   */
  async *matchingIds(
    filter: DeadLetterFilter = {},
    chunkSize = MATCH_CHUNK,
  ): AsyncGenerator<string[]> {
    const all = () => ({ from: 0, count: chunkSize });
    for await (const chunk of this.#chunks(filter, await this.#plan(filter), chunkSize, all)) {
      if (chunk.ids.length > 0) yield chunk.ids;
    }
  }

  /**
   * The plan's index a chunk at a time, each checked against the filter's other indexes:
   * how many ids matched, and those of them in the `keep` window (asked before each chunk).
   */
  async *#chunks(
    filter: DeadLetterFilter,
    plan: Plan,
    chunkSize: number,
    keep: () => { from: number; count: number },
  ): AsyncGenerator<{ matched: number; ids: string[] }> {
    const others = plan.needsCheck ? this.#indexes(filter).filter((k) => k !== plan.index) : [];
    let max = plan.max;
    // Ids at score `max` already read (ties are read in a fixed order, so they come first):
    // as many as entries filed in the same millisecond, a handful.
    let seen: string[] = [];
    for (;;) {
      const { from, count } = keep();
      const reply = (await CHUNK.run(
        this.#redis,
        [plan.index, ...others],
        [max, plan.min, chunkSize, from, count, ...seen],
      )) as [number, number, string, ...string[]];
      const [read, matched, last, ...rest] = reply;
      const bar = rest.indexOf('|');
      const atLast = rest.slice(0, bar);
      yield { matched, ids: rest.slice(bar + 1) };
      if (read < chunkSize) return;
      seen = last === max ? [...seen, ...atLast] : atLast;
      max = last;
    }
  }

  /** The keys the insert and remove scripts touch for one entry: hash, time index, its indexes. */
  #entryKeys(entry: DeadLetter): string[] {
    const k = this.#keys;
    const keys = [
      k.entries,
      k.byTime,
      k.byCode(entry.code),
      k.byQueue(entry.queue),
      k.codes,
      k.byTenant(jobTenant(entry.meta)),
    ];
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
    if (filter.tenant) keys.push(k.byTenant(filter.tenant));
    return keys;
  }

  /**
   * Once per deployment (a marker): enters every entry filed before the tenant index was kept
   * into its tenant's index, a page at a time (idempotent: overlapping runs are harmless).
   * Returns whether the index is complete.
   */
  async indexTenants(): Promise<boolean> {
    const k = this.#keys;
    if ((await this.#redis.exists(k.tenantsIndexed)) === 1) return true;
    const tenants = new Set<string>(['default']);
    for (let offset = 0; ; ) {
      const names = [...tenants];
      const [read, ...missing] = (await INDEX_TENANTS.run(
        this.#redis,
        [k.byTime, k.entries, k.tenantsIndexed, ...names.map((t) => k.byTenant(t))],
        [offset, INDEX_PAGE, ...names],
      )) as [number, ...string[]];
      if (missing.length > 0) {
        for (const tenant of missing) tenants.add(tenant);
        continue; // the same page again, naming them
      }
      if (read < INDEX_PAGE) return true;
      offset += read;
    }
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

  /** Removes entries older than `olderThanMs` epoch, a chunk at a time; returns how many. */
  async purgeOlderThan(olderThanMs: number): Promise<number> {
    let removed = 0;
    for await (const ids of this.matchingIds({ until: olderThanMs })) {
      for (const id of ids) if (await this.remove(id)) removed++;
    }
    return removed;
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
