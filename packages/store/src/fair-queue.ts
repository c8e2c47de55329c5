import { atelierKeys } from '@atelier/shared';
import type { BullmqQueueKeys } from './job-snapshot.ts';
import { LuaScript } from './lua-script.ts';
import type { RedisClient } from './redis.ts';

/**
 * Jobs that wait for their tenant's turn: one job, or items `from` to `to - 1` of a batch (ids
 * `idPrefix + index`), all of one tenant at one priority.
 */
export type ParkedWork =
  | { kind: 'job'; id: string }
  | { kind: 'range'; batchId: string; idPrefix: string; from: number; to: number };

/** A parked job is added to BullMQ delayed this far in the future: only a promotion runs it. */
export const PARK_DELAY_MS = 5 * 365 * 24 * 60 * 60 * 1000;
/** A delayed job due further out than this is parked (polls and back-offs are never that far). */
const PARKED_BEYOND_MS = 365 * 24 * 60 * 60 * 1000;
/** BullMQ scores its delayed set `timestamp * 0x1000 + n`. */
const DELAYED_SCORE_UNIT = 0x1000;
/** Entries looked at per backlog for one not held back (a paused batch's). */
const SCAN_ENTRIES = 20;

/**
 * The room for admitted work: the concurrency of the live worker processes serving the queue
 * (expired registrations dropped), `default` when none is registered, less the jobs admitted
 * and not started (BullMQ's prioritized set and wait list) and those taken but not promoted.
 */
const ROOM_LUA = `
local function room(workers, prioritized, wait, admitting, now, default)
  local all = redis.call('HGETALL', workers)
  local window = 0
  for i = 1, #all, 2 do
    local c, exp = string.match(all[i + 1], '^(%d+)|(%d+)$')
    if c and tonumber(exp) > now then window = window + tonumber(c)
    else redis.call('HDEL', workers, all[i]) end
  end
  if window == 0 then window = default end
  return window - redis.call('ZCARD', prioritized) - redis.call('LLEN', wait) - redis.call('ZCARD', admitting)
end
`;

/**
 * How many of `count` jobs of one tenant at one priority go to BullMQ as usual: all of them
 * while nothing waits at this priority or a more urgent one and the window has room (up to
 * the room); the rest are parked — listed at the end of the tenant's backlog (before they are
 * added, so a dispatcher may find an id whose add is still in flight). A batch's next items
 * extend its entry at the tail: one entry per batch, however many chunks.
 * KEYS: active, prioritized, wait, admitting, workers, backlog. ARGV: priority, member, count,
 * now, default window, kind (j|r), id | batch id, id prefix, from, to. Returns the count direct.
 */
const ROUTE = new LuaScript(`${ROOM_LUA}
local priority, count = tonumber(ARGV[1]), tonumber(ARGV[3])
local direct = 0
if #redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', priority, 'LIMIT', 0, 1) == 0 then
  local r = room(KEYS[5], KEYS[2], KEYS[3], KEYS[4], tonumber(ARGV[4]), tonumber(ARGV[5]))
  if r > 0 then direct = math.min(count, r) end
end
if direct < count then
  local entry
  if ARGV[6] == 'j' then entry = 'j|' .. ARGV[7]
  else
    local from = tonumber(ARGV[9]) + direct
    local head = 'r|' .. ARGV[7] .. '|' .. ARGV[8] .. '|'
    local tail = redis.call('LINDEX', KEYS[6], -1)
    if tail and string.sub(tail, 1, #head) == head then
      local tfrom, tto = string.match(string.sub(tail, #head + 1), '^(%d+)|(%d+)$')
      if tto and tonumber(tto) == from then
        -- The next items of the batch at the tail: one entry grows (a batch stays one entry).
        redis.call('LSET', KEYS[6], -1, head .. tfrom .. '|' .. ARGV[10])
        redis.call('ZADD', KEYS[1], priority, ARGV[2])
        return direct
      end
    end
    entry = head .. from .. '|' .. ARGV[10]
  end
  redis.call('RPUSH', KEYS[6], entry)
  redis.call('ZADD', KEYS[1], priority, ARGV[2])
end
return direct
`);

/**
 * Takes up to ARGV[3] parked ids (no more than the window's room) in start-time fair order:
 * the most urgent priority with a backlog first; within it, the tenant whose next job has the
 * smallest start tag S = max(V, F[tenant]) (ties: the order of the members), then
 * F[tenant] = S + 1 / weight and V = S. Entries of paused batches are passed over (a backlog
 * holding only those waits). Each id taken goes to the admitting set (promote, then remove).
 * KEYS: active, admitting, prioritized, wait, workers, paused batches, then per member its
 * backlog and its priority's tags. ARGV: now, default window, most to take, number of weights,
 * tenant/weight pairs, then the members (`<priority>|<tenant>`) the caller read from active.
 * Returns {-1} when active holds other members (read again), else {1, members left, ids…}
 * (no room: no ids).
 */
const PICK = new LuaScript(`${ROOM_LUA}
local now = tonumber(ARGV[1])
local nw = tonumber(ARGV[4])
local weights = {}
for i = 1, nw do weights[ARGV[3 + 2 * i]] = tonumber(ARGV[4 + 2 * i]) end
local members, tenants, bandOf = {}, {}, {}
for i = 5 + 2 * nw, #ARGV do
  local m = ARGV[i]
  local p, t = string.match(m, '^(%d+)|(.+)$')
  members[#members + 1] = m
  tenants[#members] = t
  bandOf[#members] = tonumber(p)
end
local active = redis.call('ZRANGE', KEYS[1], 0, -1)
if #active ~= #members then return {-1} end
local passed = {}
for _, m in ipairs(members) do passed[m] = true end
for _, m in ipairs(active) do if not passed[m] then return {-1} end end
local left = #members
local r = room(KEYS[5], KEYS[3], KEYS[4], KEYS[2], now, tonumber(ARGV[2]))
if r <= 0 then return {1, left} end
local want = math.min(r, tonumber(ARGV[3]))

local bands, byBand = {}, {}
for i = 1, #members do
  local b = bandOf[i]
  if not byBand[b] then byBand[b] = {}; bands[#bands + 1] = b end
  table.insert(byBand[b], i)
end
table.sort(bands)
local backlog = function(i) return KEYS[5 + 2 * i] end
local tagsOf = function(i) return KEYS[6 + 2 * i] end

-- The first entry of a backlog not held back: its position and value (nil: none).
local function admissible(key)
  local entries = redis.call('LRANGE', key, 0, ${SCAN_ENTRIES - 1})
  for pos, e in ipairs(entries) do
    if string.sub(e, 1, 2) == 'j|' then return pos - 1, e end
    local batch = string.match(e, '^r|([^|]*)|')
    if batch == nil or redis.call('SISMEMBER', KEYS[6], batch) == 0 then return pos - 1, e end
  end
  return nil
end
local function remove(key, pos)
  if pos == 0 then redis.call('LPOP', key) return end
  redis.call('LSET', key, pos, '\\0taken')
  redis.call('LREM', key, 1, '\\0taken')
end
-- One id off the entry at pos (the entry shrinks or goes); nil for an entry not understood.
local function take(key, pos, e)
  if string.sub(e, 1, 2) == 'j|' then
    remove(key, pos)
    return string.sub(e, 3)
  end
  local batch, prefix, from, to = string.match(e, '^r|([^|]*)|([^|]*)|(%d+)|(%d+)$')
  if batch == nil then
    remove(key, pos)
    return nil
  end
  from, to = tonumber(from), tonumber(to)
  if from + 1 < to then
    redis.call('LSET', key, pos, 'r|' .. batch .. '|' .. prefix .. '|' .. (from + 1) .. '|' .. to)
  else
    remove(key, pos)
  end
  if from >= to then return nil end
  return prefix .. from
end

local out = {1, 0}
local heads, live = {}, {}
for i = 1, #members do live[i] = true end
local liveInBand = {}
for _, b in ipairs(bands) do liveInBand[b] = #byBand[b] end
local taken = 0
while taken < want do
  local chosen, chosenS
  for _, b in ipairs(bands) do
    local V
    for _, i in ipairs(byBand[b]) do
      if live[i] then
        if heads[i] == nil then
          local pos, e = admissible(backlog(i))
          if pos == nil then heads[i] = false else heads[i] = {pos, e} end
        end
        if heads[i] then
          V = V or tonumber(redis.call('HGET', tagsOf(i), 'V') or '0')
          local S = math.max(V, tonumber(redis.call('HGET', tagsOf(i), 'F|' .. tenants[i]) or '0'))
          if chosen == nil or S < chosenS then chosen, chosenS = i, S end
        end
      end
    end
    if chosen then break end
  end
  if chosen == nil then break end
  local key, head = backlog(chosen), heads[chosen]
  local id = take(key, head[1], head[2])
  heads[chosen] = nil
  if id then
    local w = weights[tenants[chosen]] or 1
    redis.call('HSET', tagsOf(chosen), 'F|' .. tenants[chosen], string.format('%.17g', chosenS + 1 / w), 'V', string.format('%.17g', chosenS))
    redis.call('ZADD', KEYS[2], now, id)
    out[#out + 1] = id
    taken = taken + 1
  end
  if redis.call('LLEN', key) == 0 then
    redis.call('ZREM', KEYS[1], members[chosen])
    live[chosen] = false
    left = left - 1
    local b = bandOf[chosen]
    liveInBand[b] = liveInBand[b] - 1
    if liveInBand[b] == 0 then redis.call('DEL', tagsOf(chosen)) end
  end
end
out[2] = left
return out
`);

/**
 * Where a taken id's job stands: 1 parked (in the delayed set: promote it), 0 it exists and
 * is not parked (promoted, cancelled, running… nothing to do), -1 no such job (its add may
 * still be in flight). KEYS: delayed, job hash. ARGV: id.
 */
const PARKED_STATE = new LuaScript(`
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
return -1
`);

/** A queue's BullMQ keys and name (a BullMQ `Queue` will do). */
export interface FairQueueTarget extends BullmqQueueKeys {
  readonly name: string;
}

export interface FairPick {
  /** Ids taken, in fair order: promote each, then `done`. */
  ids: string[];
  /** Backlogs (tenant and priority) that still hold work. */
  backlogs: number;
}

/**
 * Fair share between tenants for one BullMQ queue (start-time fair queueing over admission):
 * work that must wait for its turn is added parked (delayed `PARK_DELAY_MS`) and listed in
 * its tenant's backlog at its priority; dispatchers (one per worker process) take ids in
 * weighted fair order whenever the admitted work not started falls below the window (the
 * concurrency of the live workers), and promote them. While nothing waits and the window has
 * room, work goes to BullMQ as usual (`route`): fairness costs nothing when it has nothing to
 * do. Every id taken is kept in an admitting set until promoted, so one taken by a process
 * that died is promoted by another (`stale`).
 */
export class FairQueue {
  readonly #redis: RedisClient;
  readonly #queue: FairQueueTarget;
  readonly #keys: ReturnType<ReturnType<typeof atelierKeys>['fair']>;
  readonly #paused: string;
  readonly #defaultWindow: number;

  /** `defaultWindow`: the window while no worker process is registered. */
  constructor(redis: RedisClient, prefix: string, queue: FairQueueTarget, defaultWindow = 50) {
    this.#redis = redis;
    this.#queue = queue;
    const keys = atelierKeys(prefix);
    this.#keys = keys.fair(queue.name);
    this.#paused = keys.batch.paused;
    this.#defaultWindow = defaultWindow;
  }

  /**
   * Of `count` jobs of `tenant` at `priority` (BullMQ's number), how many to add as usual; the
   * rest (`work` from that one on) are listed in the tenant's backlog: add them parked.
   */
  async route(tenant: string, priority: number, count: number, work: ParkedWork): Promise<number> {
    const k = this.#keys;
    const q = this.#queue;
    const parts =
      work.kind === 'job'
        ? ['j', work.id, '', 0, 0]
        : ['r', work.batchId, work.idPrefix, work.from, work.to];
    const direct = await ROUTE.run(
      this.#redis,
      [
        k.active,
        q.toKey('prioritized'),
        q.toKey('wait'),
        k.admitting,
        k.workers,
        k.backlog(priority, tenant),
      ],
      [priority, `${priority}|${tenant}`, count, Date.now(), this.#defaultWindow, ...parts],
    );
    return Number(direct);
  }

  /** A worker process serving the queue with `concurrency` slots, for `ttlMs` (renew it). */
  async register(workerId: string, concurrency: number, ttlMs: number): Promise<void> {
    await this.#redis.hset(this.#keys.workers, workerId, `${concurrency}|${Date.now() + ttlMs}`);
  }

  async unregister(workerId: string): Promise<void> {
    await this.#redis.hdel(this.#keys.workers, workerId);
  }

  /**
   * Takes up to `max` ids in weighted fair order (within the window's room); `weights` by
   * tenant (default 1).
   */
  async pick(weights: Readonly<Record<string, number>>, max: number): Promise<FairPick> {
    const k = this.#keys;
    const q = this.#queue;
    const pairs = Object.entries(weights).flat();
    for (let tries = 0; tries < 5; tries++) {
      const members = await this.#redis.zrange(k.active, '0', '-1');
      if (members.length === 0) return { ids: [], backlogs: 0 };
      const perMember = members.flatMap((m) => {
        const [priority = '0', tenant = ''] = splitMember(m);
        return [k.backlog(Number(priority), tenant), k.tags(Number(priority))];
      });
      const reply = (await PICK.run(
        this.#redis,
        [
          k.active,
          k.admitting,
          q.toKey('prioritized'),
          q.toKey('wait'),
          k.workers,
          this.#paused,
          ...perMember,
        ],
        [Date.now(), this.#defaultWindow, max, pairs.length / 2, ...pairs, ...members],
      )) as [number, number?, ...string[]];
      if (reply[0] === -1) continue; // a backlog came or went meanwhile: read them again
      const [, backlogs = 0, ...ids] = reply;
      return { ids, backlogs };
    }
    return { ids: [], backlogs: 1 };
  }

  /** Whether any backlog holds work (one `EXISTS`). */
  async hasBacklog(): Promise<boolean> {
    return (await this.#redis.exists(this.#keys.active)) === 1;
  }

  /** Ids promoted (or found not to need it): out of the admitting and awaiting sets. */
  async done(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#redis
      .multi()
      .zrem(this.#keys.admitting, ...ids)
      .zrem(this.#keys.awaiting, ...ids)
      .exec();
  }

  /**
   * Ids taken whose job does not exist yet (its add is in flight): out of the window's count,
   * into the awaiting set (since `since`, kept if already there), tried again by `awaiting`.
   */
  async awaitAdd(ids: readonly string[], since: number): Promise<void> {
    if (ids.length === 0) return;
    const scored = ids.flatMap((id) => [since, id]);
    await this.#redis
      .multi()
      .zadd(this.#keys.awaiting, 'NX', ...scored)
      .zrem(this.#keys.admitting, ...ids)
      .exec();
  }

  /** Ids taken before `before` and still admitting: their dispatcher died or failed. */
  async stale(before: number, count = 500): Promise<string[]> {
    return this.#redis.zrangebyscore(this.#keys.admitting, '-inf', before, 'LIMIT', 0, count);
  }

  /** Ids awaiting their add: `[id, since]`, oldest first. */
  async awaiting(count = 500): Promise<Array<[string, number]>> {
    const rows = await this.#redis.zrange(
      this.#keys.awaiting,
      '0',
      String(count - 1),
      'WITHSCORES',
    );
    const out: Array<[string, number]> = [];
    for (let i = 0; i < rows.length; i += 2) out.push([rows[i] as string, Number(rows[i + 1])]);
    return out;
  }

  /** Where a taken id's job stands (see `PARKED_STATE`). */
  async state(id: string): Promise<'parked' | 'settled' | 'missing'> {
    const q = this.#queue;
    const state = await PARKED_STATE.run(this.#redis, [q.toKey('delayed'), q.toKey(id)], [id]);
    return state === 1 ? 'parked' : state === 0 ? 'settled' : 'missing';
  }

  /** How many jobs are parked (waiting for their turn) now. */
  async parkedCount(now = Date.now()): Promise<number> {
    return this.#redis.zcount(this.#queue.toKey('delayed'), parkedScore(now), '+inf');
  }

  /** A page of parked job ids (in the delayed set's order). */
  async parked(offset: number, count: number, now = Date.now()): Promise<string[]> {
    const delayed = this.#queue.toKey('delayed');
    return this.#redis.zrangebyscore(delayed, parkedScore(now), '+inf', 'LIMIT', offset, count);
  }

  /**
   * Every id a backlog, the admitting set or the awaiting set stands for (an id of a batch
   * range is covered when its index is inside the range): what `parked` jobs are checked
   * against for ones no backlog lists any more.
   */
  async coverage(): Promise<(id: string) => boolean> {
    const k = this.#keys;
    const members = await this.#redis.zrange(k.active, '0', '-1');
    const lists = await Promise.all(
      members.map((m) => {
        const [priority = '0', tenant = ''] = splitMember(m);
        return this.#redis.lrange(k.backlog(Number(priority), tenant), 0, -1);
      }),
    );
    const [admitting, awaiting] = await Promise.all([
      this.#redis.zrange(k.admitting, '0', '-1'),
      this.#redis.zrange(k.awaiting, '0', '-1'),
    ]);
    const singles = new Set<string>([...admitting, ...awaiting]);
    const ranges = new Map<string, Array<[number, number]>>();
    for (const entry of lists.flat()) {
      if (entry.startsWith('j|')) {
        singles.add(entry.slice(2));
        continue;
      }
      const [, , prefix = '', from = '0', to = '0'] = entry.split('|');
      const list = ranges.get(prefix) ?? [];
      list.push([Number(from), Number(to)]);
      ranges.set(prefix, list);
    }
    return (id) => {
      if (singles.has(id)) return true;
      const tilde = id.lastIndexOf('~');
      if (tilde < 0) return false;
      const index = Number(id.slice(tilde + 1));
      const list = ranges.get(id.slice(0, tilde + 1));
      return list?.some(([from, to]) => index >= from && index < to) ?? false;
    };
  }
}

/** The lowest delayed-set score of a job parked (due more than a year from `now`). */
function parkedScore(now: number): number {
  return (now + PARKED_BEYOND_MS) * DELAYED_SCORE_UNIT;
}

/** `<priority>|<tenant>`. */
function splitMember(member: string): [string, string] {
  const bar = member.indexOf('|');
  return [member.slice(0, bar), member.slice(bar + 1)];
}
