import { atelierKeys, DEFAULT_TENANT, type JobCancelled, type JobKind } from '@atelier/shared';
import { BATCH_LUA } from './batch-scripts.ts';
import {
  CANCEL_REQUEST_FIELD,
  CANCELLED_FIELD,
  HOLDS_LOCK_LUA,
  type JobLock,
  lockKeyOf,
} from './job-fence.ts';
import type { BullmqQueueKeys } from './job-snapshot.ts';
import { LockLostError } from './lock-lost-error.ts';
import { LuaScript } from './lua-script.ts';
import type { RedisClient } from './redis.ts';
import { usageExpireAt } from './tenant-usage.ts';

/**
 * Lua of every script that ends a job unpaid. `endUnpaid` is THE place where "an item ended
 * without being paid for" is decided: the job's `atelierCancelled` record and, for a batch item,
 * its `cancelled` result line and counter (which may finish the batch), in the script that
 * checked the job had not submitted. Whatever must follow an unpaid end (a quota given back)
 * belongs in it.
 * - `submitted(data)`: the drawing's data records a submit (an intent or a taskId) — or cannot
 *   be read, in which case nothing is touched;
 * - `takeOutOfWaiting(q, id)`: removes a job that is not running from BullMQ's waiting places
 *   (prioritized, delayed, wait, paused); false when it is in none of them;
 * - `finishInQueue(q, ...)`: records such a job as BullMQ records a completion (completed set,
 *   `finishedOn`, return value, `completed` event), so BullMQ's retention removes it in time.
 * `q` and `b` are tables of keys: q = {prioritized, delayed, wait, paused, completed, events},
 * b = {meta, items, open, gone, parked} (nil for a job outside a batch); `u` is where the job's
 * images were counted (`usageOf`: its tenant's day and returned set, nil when unknown): a
 * drawing ended unpaid gives them back there, once.
 */
const UNPAID_LUA = `${BATCH_LUA}
local function present(v) return v ~= nil and v ~= cjson.null end
local function submitted(data)
  local ok, d = pcall(cjson.decode, data)
  if not ok or type(d) ~= 'table' then return true end
  local s = d['state']
  if type(s) ~= 'table' then return false end
  return present(s['taskId']) or present(s['submitIntentAt'])
end
local function takeOutOfWaiting(q, id)
  if redis.call('ZREM', q.prioritized, id) == 1 then return 'waiting' end
  if redis.call('ZREM', q.delayed, id) == 1 then return 'delayed' end
  if redis.call('LREM', q.wait, -1, id) == 1 then return 'waiting' end
  if redis.call('LREM', q.paused, -1, id) == 1 then return 'waiting' end
  return false
end
local function finishInQueue(q, jobKey, id, prev, outcome, now)
  redis.call('HSET', jobKey, 'returnvalue', outcome, 'finishedOn', now)
  redis.call('ZADD', q.completed, now, id)
  redis.call('XADD', q.events, 'MAXLEN', '~', 10000, '*', 'event', 'completed', 'jobId', id,
    'returnvalue', outcome, 'prev', prev)
end
local function cancelOutcome(jobKey, now, by)
  local recorded = redis.call('HGET', jobKey, '${CANCELLED_FIELD}')
  if recorded then return recorded end
  if redis.call('HEXISTS', jobKey, '${CANCEL_REQUEST_FIELD}') == 1 then by = 'job' end
  return '{"cancelled":true,"cancelledAt":' .. now .. ',"by":"' .. by .. '"}'
end
local function giveBackImages(u, jobKey, id)
  if not u then return end
  local ok, d = pcall(cjson.decode, redis.call('HGET', jobKey, 'data') or '{}')
  if not ok or type(d) ~= 'table' or d.kind ~= 'drawing' or type(d.meta) ~= 'table' then return end
  local tenant = d.meta.tenant
  if type(tenant) ~= 'string' then tenant = 'default' end
  if d.meta.usageDay ~= u.day or tenant ~= u.tenant then return end
  local num = type(d.task) == 'table' and tonumber(d.task.num) or 1
  if redis.call('SADD', u.returned, id) == 1 then
    redis.call('HINCRBY', u.dayKey, 'images', -num)
    redis.call('PEXPIREAT', u.returned, u.expireAt)
  end
end
local function usageOf(at, tenant, day, expireAt)
  if at == nil or at == '' then return nil end
  local k = tonumber(at)
  return { dayKey = KEYS[k], returned = KEYS[k + 1], tenant = tenant, day = day, expireAt = expireAt }
end
local function endUnpaid(jobKey, id, outcome, b, index, now, ttl, batchId, goneTtl, u)
  redis.call('HSET', jobKey, '${CANCELLED_FIELD}', outcome)
  giveBackImages(u, jobKey, id)
  if not b then return {0, 0, 0} end
  redis.call('SREM', b.parked, id)
  local line = 'x|{"index":' .. index .. ',"jobId":' .. cjson.encode(id) .. ',"state":"cancelled"}'
  return settleItem(b.meta, b.items, b.open, b.gone, index, line, now, ttl, batchId, goneTtl)
end
local function queueKeys(k)
  return { prioritized = KEYS[k], delayed = KEYS[k + 1], wait = KEYS[k + 2], paused = KEYS[k + 3],
    completed = KEYS[k + 4], events = KEYS[k + 5] }
end
local function batchKeys(k)
  if not KEYS[k] then return nil end
  return { meta = KEYS[k], items = KEYS[k + 1], open = KEYS[k + 2], gone = KEYS[k + 3],
    parked = KEYS[k + 4] }
end
`;

/**
 * A cancel of one job. Refused when the job records a submit (an intent or a taskId: the money
 * is spent) or has ended; a job that is waiting ends at once (unpaid, completed in BullMQ); a
 * running one is marked so that it stops at its submit (`JobFence.claimSubmit` checks the
 * mark in the script that records the intent). A CME job can be cancelled until it first runs.
 * KEYS: job hash, lock, prioritized, delayed, wait, paused, completed, events, dead-letter
 * entries[, batch record, items, open set, gone marker, parked set][, usage day, returned set].
 * ARGV: job id, now, kind, batch index, ttl, batch id, goneTtl, where the usage keys are in KEYS
 * ('' for none), tenant, usage day, their expiry.
 * Returns {answer, justFinished, outcome}.
 */
const CANCEL_JOB = new LuaScript(`${UNPAID_LUA}
local jobKey, id, now = KEYS[1], ARGV[1], ARGV[2]
local function replaysOf(json)
  local ok, v = pcall(cjson.decode, json or '{}')
  local r = ok and type(v) == 'table' and type(v.meta) == 'table' and tonumber(v.meta.replays)
  return r or 0
end
local f = redis.call('HMGET', jobKey, 'data', 'finishedOn', '${CANCELLED_FIELD}', 'processedOn')
local entry = redis.call('HGET', KEYS[9], id)
-- A dead letter from before a replay of the job (the job counts more replays) is not current.
local dead = entry and replaysOf(entry) >= replaysOf(f[1])
if not f[1] then return { dead and 'finished' or 'missing', 0, '' } end
if f[3] then return {'already', 0, f[3]} end
if f[2] or dead then return {'finished', 0, ''} end
if ARGV[3] == 'drawing' then
  if submitted(f[1] or '') then return {'submitted', 0, ''} end
elseif f[4] then
  return {'submitted', 0, ''}
end
local q = queueKeys(3)
local prev = redis.call('EXISTS', KEYS[2]) == 0 and takeOutOfWaiting(q, id)
if not prev then
  redis.call('HSETNX', jobKey, '${CANCEL_REQUEST_FIELD}', now)
  return {'requested', 0, ''}
end
local outcome = cancelOutcome(jobKey, now, 'job')
local b = ARGV[8] ~= '10' and batchKeys(10) or nil
local u = usageOf(ARGV[8], ARGV[9], ARGV[10], ARGV[11])
local settled = endUnpaid(jobKey, id, outcome, b, ARGV[4], now, ARGV[5], ARGV[6], ARGV[7], u)
finishInQueue(q, jobKey, id, prev, outcome, now)
return {'cancelled', settled[2], outcome}
`);

/**
 * A chunk of a cancelled batch's items: each item not settled yet whose job is waiting (not
 * running) and records no submit ends unpaid now, completed in BullMQ. Items running or in
 * flight are left to their runs (which stop at their submit) and later passes. Nothing is done
 * unless the batch is `cancelling`.
 * KEYS: batch record, items, open set, gone marker, parked set, prioritized, delayed, wait,
 * paused, completed, events, then each item's job hash and lock[, usage day, returned set].
 * ARGV: now, ttl, batch id, goneTtl, first index, where the usage keys are in KEYS ('' for
 * none), tenant, usage day, their expiry, then each item's job id.
 * Returns {ended, justFinished}.
 */
const END_WAITING_ITEMS = new LuaScript(`${UNPAID_LUA}
local now, ttl, batchId, goneTtl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('HGET', KEYS[1], 'state') ~= 'cancelling' then return {0, 0} end
local b, q = batchKeys(1), queueKeys(6)
local u = usageOf(ARGV[6], ARGV[7], ARGV[8], ARGV[9])
local first, n = tonumber(ARGV[5]), #ARGV - 9
if n == 0 then return {0, 0} end
local fields = {}
for i = 1, n do fields[i] = first + i - 1 end
local lines = redis.call('HMGET', b.items, unpack(fields))
local ended, justFinished = 0, 0
for i = 1, n do
  local id, jobKey, lockKey = ARGV[9 + i], KEYS[10 + 2 * i], KEYS[11 + 2 * i]
  if not lines[i] and redis.call('EXISTS', lockKey) == 0 then
    local f = redis.call('HMGET', jobKey, 'data', 'finishedOn')
    if f[1] and not f[2] and not submitted(f[1]) then
      local prev = takeOutOfWaiting(q, id)
      if prev then
        local outcome = cancelOutcome(jobKey, now, 'batch')
        local settled = endUnpaid(jobKey, id, outcome, b, fields[i], now, ttl, batchId, goneTtl, u)
        finishInQueue(q, jobKey, id, prev, outcome, now)
        ended = ended + 1
        if settled[2] == 1 then justFinished = 1 end
      end
    end
  end
end
return {ended, justFinished}
`);

/**
 * A running job whose submit was refused by a cancel ends unpaid, only while its worker holds
 * the lock (BullMQ then completes it with the outcome as its return value). Idempotent: a run
 * that finds the job already ended finishes the same end.
 * KEYS: job hash, lock[, batch record, items, open set, gone marker, parked set][, usage day,
 * returned set]. ARGV: token, now, job id, batch index, ttl, batch id, goneTtl, where the usage
 * keys are in KEYS ('' for none), tenant, usage day, their expiry.
 * Returns {1, justFinished, outcome}, or {-1} when the lock is lost.
 */
const SETTLE_RUNNING = new LuaScript(`${UNPAID_LUA}${HOLDS_LOCK_LUA}
if not holdsLock(KEYS[1], KEYS[2], ARGV[1]) then return {-1, 0, ''} end
local outcome = cancelOutcome(KEYS[1], ARGV[2], 'batch')
local b = ARGV[8] ~= '3' and batchKeys(3) or nil
local u = usageOf(ARGV[8], ARGV[9], ARGV[10], ARGV[11])
local settled = endUnpaid(KEYS[1], ARGV[3], outcome, b, ARGV[4], ARGV[2], ARGV[5], ARGV[6], ARGV[7], u)
return {1, settled[2], outcome}
`);

/** What a cancel of one job came to. */
export type JobCancelAnswer =
  /** Ended now, unpaid. */
  | 'cancelled'
  /** Running: it stops at its submit (or, if it goes back to waiting first, when next asked). */
  | 'requested'
  /** Cancelled before. */
  | 'already'
  /** The job records a submit (or a CME job ran): the provider may have been paid. */
  | 'submitted'
  /** Completed or dead. */
  | 'finished'
  | 'missing';

/** A batch item's place: its batch and index. */
export interface BatchItemRef {
  batchId: string;
  index: number;
}

/**
 * Ending jobs unpaid: the scripts of a cancel (one job from the API, a chunk of a cancelled
 * batch's waiting items, a running job whose submit a cancel refused). Each checks, in the
 * script that ends the job, that it records no submit — and the submit intent is recorded only
 * by a script that checks for cancels (`JobFence.claimSubmit`) — so a cancelled job is never
 * paid for, whichever comes first.
 */
export class JobCancellation {
  readonly #redis: RedisClient;
  readonly #keys: ReturnType<typeof atelierKeys>;
  readonly #finishedTtlMs: number;
  readonly #goneTtlMs: number;

  /** `retention`: the batch ledger's (`BatchLedger.retention`): a batch a cancel finishes expires so. */
  constructor(
    redis: RedisClient,
    prefix: string,
    retention: { finishedTtlMs: number; goneTtlMs: number },
  ) {
    this.#redis = redis;
    this.#keys = atelierKeys(prefix);
    this.#finishedTtlMs = retention.finishedTtlMs;
    this.#goneTtlMs = retention.goneTtlMs;
  }

  /**
   * Cancels one job of `queue` (of `kind`). `item`: the batch item it is, if any. `finishedAt`
   * is set when that ended the item's batch (the caller announces it).
   */
  async cancelJob(
    queue: BullmqQueueKeys,
    job: { id: string; kind: JobKind; item?: BatchItemRef },
  ): Promise<{ answer: JobCancelAnswer; outcome?: JobCancelled; finishedAt?: number }> {
    const now = Date.now();
    const { id, item } = job;
    const jobKey = queue.toKey(id);
    const keys = [
      jobKey,
      lockKeyOf(jobKey),
      ...waitingKeys(queue),
      this.#keys.deadLetters.entries,
      ...(item ? this.#batchKeys(item.batchId) : []),
    ];
    const usage = this.#usage(keys, await this.#usageOfJob(jobKey));
    const [answer, justFinished, outcome] = (await CANCEL_JOB.run(this.#redis, keys, [
      id,
      now,
      job.kind,
      item?.index ?? 0,
      this.#finishedTtlMs,
      item?.batchId ?? '',
      this.#goneTtlMs,
      ...usage,
    ])) as [JobCancelAnswer, number, string];
    return {
      answer,
      ...(outcome ? { outcome: JSON.parse(outcome) as JobCancelled } : {}),
      ...(justFinished === 1 ? { finishedAt: now } : {}),
    };
  }

  /**
   * Ends the waiting items among `jobIds` (items `firstIndex`, `firstIndex + 1`, …) of a
   * cancelled batch. Returns how many; `finishedAt` when that ended the batch.
   */
  async endWaitingItems(
    queue: BullmqQueueKeys,
    batchId: string,
    firstIndex: number,
    jobIds: readonly string[],
  ): Promise<{ ended: number; finishedAt?: number }> {
    if (jobIds.length === 0) return { ended: 0 };
    const now = Date.now();
    const keys = [
      ...this.#batchKeys(batchId),
      ...waitingKeys(queue),
      ...jobIds.flatMap((id) => {
        const jobKey = queue.toKey(id);
        return [jobKey, lockKeyOf(jobKey)];
      }),
    ];
    const [tenant, day] = await this.#redis.hmget(
      this.#keys.batch.meta(batchId),
      'tenant',
      'usageDay',
    );
    const usage = this.#usage(keys, day ? { tenant: tenant ?? DEFAULT_TENANT, day } : undefined);
    const [ended, justFinished] = (await END_WAITING_ITEMS.run(this.#redis, keys, [
      now,
      this.#finishedTtlMs,
      batchId,
      this.#goneTtlMs,
      firstIndex,
      ...usage,
      ...jobIds,
    ])) as [number, number];
    return { ended, ...(justFinished === 1 ? { finishedAt: now } : {}) };
  }

  /**
   * Ends a running job whose submit a cancel refused, while `lock` holds (else
   * `LockLostError`). Returns how it ended; `finishedAt` when that ended its batch.
   */
  async settleRunning(
    lock: JobLock,
    item?: BatchItemRef,
  ): Promise<{ outcome: JobCancelled; finishedAt?: number }> {
    const now = Date.now();
    const keys = [
      lock.jobKey,
      lockKeyOf(lock.jobKey),
      ...(item ? this.#batchKeys(item.batchId) : []),
    ];
    const usage = this.#usage(keys, await this.#usageOfJob(lock.jobKey));
    const [code, justFinished, outcome] = (await SETTLE_RUNNING.run(this.#redis, keys, [
      lock.token,
      now,
      lock.jobId,
      item?.index ?? 0,
      this.#finishedTtlMs,
      item?.batchId ?? '',
      this.#goneTtlMs,
      ...usage,
    ])) as [number, number, string];
    if (code === -1) throw new LockLostError(lock.jobId, 'ending it cancelled');
    return {
      outcome: JSON.parse(outcome) as JobCancelled,
      ...(justFinished === 1 ? { finishedAt: now } : {}),
    };
  }

  /**
   * Where a job's images were counted, read before its script (a job's tenant and usage day
   * never change; the script checks them again against the data it reads).
   */
  async #usageOfJob(jobKey: string): Promise<{ tenant: string; day: string } | undefined> {
    const data = await this.#redis.hget(jobKey, 'data');
    if (!data) return undefined;
    try {
      const meta = (JSON.parse(data) as { meta?: { tenant?: unknown; usageDay?: unknown } }).meta;
      if (typeof meta?.usageDay !== 'string') return undefined;
      return {
        tenant: typeof meta.tenant === 'string' ? meta.tenant : DEFAULT_TENANT,
        day: meta.usageDay,
      };
    } catch {
      return undefined;
    }
  }

  /**
   * Appends the usage keys of `where` to `keys` and returns the ARGV the scripts read them by:
   * their position in KEYS, the tenant, the day and the keys' expiry ('' and blanks: none).
   */
  #usage(
    keys: string[],
    where: { tenant: string; day: string } | undefined,
  ): Array<string | number> {
    if (!where) return ['', '', '', 0];
    const at = keys.length + 1;
    const { usage } = this.#keys;
    keys.push(usage.day(where.tenant, where.day), usage.returned(where.tenant, where.day));
    return [at, where.tenant, where.day, usageExpireAt(where.day)];
  }

  #batchKeys(batchId: string): string[] {
    const k = this.#keys.batch;
    return [k.meta(batchId), k.items(batchId), k.open, k.gone(batchId), k.parked(batchId)];
  }
}

/** BullMQ's places of a job that is not running, and where a completion goes. */
function waitingKeys(queue: BullmqQueueKeys): string[] {
  return ['prioritized', 'delayed', 'wait', 'paused', 'completed', 'events'].map((type) =>
    queue.toKey(type),
  );
}
