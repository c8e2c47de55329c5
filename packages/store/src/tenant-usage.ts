import { atelierKeys, usageDayStart } from '@atelier/shared';
import { LuaScript } from './lua-script.ts';
import type { RedisClient } from './redis.ts';

/** What one tenant did on one UTC day. */
export interface UsageDayFigures {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  /** Images counted against its quota: reserved at enqueue, less those given back unpaid. */
  images: number;
  /** Jobs accepted (a batch counts each item). */
  jobs: number;
}

/** Images (and jobs) counted before the work they stand for is queued. */
export interface Reservation {
  kind: 'job' | 'batch';
  /** The job's queue (`drawing`, `cme`); batches are drawing batches. */
  queue: string;
  /** The job or batch id the work is queued under. */
  id: string;
  tenant: string;
  day: string;
  images: number;
  jobs: number;
}

/** How a reservation left past its deadline was settled (`settleDue`). */
export type DueSettlement =
  /** The work exists: the reservation stands. */
  | 'confirmed'
  /** The work never came to exist (or only part of a batch did): given back. */
  | 'given-back'
  /** A batch still being queued (or one a resubmission may resume): looked at again later. */
  | 'extended'
  /** Confirmed or settled by someone else meanwhile. */
  | 'gone';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Usage is kept this long after its day (`GET /v1/usage` reaches back a year). */
const KEEP_DAYS = 400;

/**
 * Counts the images and jobs of a reservation unless they would take the day past the limit
 * (a reservation already pending is not counted twice).
 * KEYS: day hash, pending. ARGV: limit (-1: none), images, jobs, member, deadline, expire-at.
 * Returns {1, used before} when counted, {0, used} when refused.
 */
const RESERVE = new LuaScript(`
local used = tonumber(redis.call('HGET', KEYS[1], 'images') or '0')
if redis.call('ZSCORE', KEYS[2], ARGV[4]) then return {1, used} end
local limit = tonumber(ARGV[1])
if limit >= 0 and used + tonumber(ARGV[2]) > limit then return {0, used} end
redis.call('HINCRBY', KEYS[1], 'images', tonumber(ARGV[2]))
redis.call('HINCRBY', KEYS[1], 'jobs', tonumber(ARGV[3]))
redis.call('PEXPIREAT', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
return {1, used}
`);

/**
 * Counts work already queued (a tenant without a quota counts after the add).
 * KEYS: day hash. ARGV: images, jobs, expire-at.
 */
const COUNT = new LuaScript(`
redis.call('HINCRBY', KEYS[1], 'images', tonumber(ARGV[1]))
redis.call('HINCRBY', KEYS[1], 'jobs', tonumber(ARGV[2]))
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1
`);

/**
 * Gives a pending reservation back at once (its work was refused or found to exist already).
 * KEYS: pending, day hash. ARGV: member, images, jobs. Returns 1 when given back.
 */
const CANCEL = new LuaScript(`
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[2], 'images', -tonumber(ARGV[2]))
redis.call('HINCRBY', KEYS[2], 'jobs', -tonumber(ARGV[3]))
return 1
`);

/**
 * A job's reservation past its deadline: stands if the job (or its dead letter) exists, else
 * is given back. KEYS: pending, day hash, job hash, dead-letter entries. ARGV: member, images,
 * jobs, job id. Returns 0 gone, 1 confirmed, 2 given back.
 */
const SETTLE_JOB = new LuaScript(`
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('HEXISTS', KEYS[4], ARGV[4]) == 1 then return 1 end
redis.call('HINCRBY', KEYS[2], 'images', -tonumber(ARGV[2]))
redis.call('HINCRBY', KEYS[2], 'jobs', -tonumber(ARGV[3]))
return 2
`);

/**
 * A batch's reservation past its deadline: given back whole when the batch was never recorded;
 * stands once every item is queued; for a batch whose enqueue was closed part-way, the images
 * and items never queued are given back; otherwise (still being queued, or keyed and resumable)
 * the deadline moves to ARGV[5]. KEYS: pending, day hash, batch record. ARGV: member, images,
 * jobs, batch id, next deadline. Returns 0 gone, 1 confirmed, 2 given back, 3 extended.
 */
const SETTLE_BATCH = new LuaScript(`
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local m = redis.call('HMGET', KEYS[3], 'total', 'enqueued', 'cutAt', 'reservedImages', 'enqueuedImages')
if not m[1] then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HINCRBY', KEYS[2], 'images', -tonumber(ARGV[2]))
  redis.call('HINCRBY', KEYS[2], 'jobs', -tonumber(ARGV[3]))
  return 2
end
local total, enq = tonumber(m[1]), tonumber(m[2] or '0')
if enq >= total then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
if m[3] then
  redis.call('ZREM', KEYS[1], ARGV[1])
  local images = math.max(0, tonumber(m[4] or ARGV[2]) - tonumber(m[5] or '0'))
  redis.call('HINCRBY', KEYS[2], 'images', -images)
  redis.call('HINCRBY', KEYS[2], 'jobs', -(total - enq))
  return 2
end
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[1])
return 3
`);

/**
 * Once per job: gives its images back (never paid for), or counts them again (a replay will
 * pay); both keys keep the day's expiry (a day past it is gone again at once). KEYS: day hash,
 * returned set. ARGV: job id, images, expire-at. Returns 1 when it changed the count.
 */
const GIVE_BACK = new LuaScript(`
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'images', -tonumber(ARGV[2]))
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
redis.call('PEXPIREAT', KEYS[2], ARGV[3])
return 1
`);
const RECOUNT = new LuaScript(`
if redis.call('SREM', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'images', tonumber(ARGV[2]))
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1
`);

/**
 * Each tenant's images and jobs per UTC day, in Redis (every API replica and worker shares the
 * counts; each change is one script). An enqueue reserves first — refused whole when the day's
 * limit would be passed — and confirms once its work is queued; a reservation whose enqueue
 * never finished (a crash in between) is found past its deadline (`settleDue`) and given back
 * unless its work exists. Images never paid for (a drawing dead before its submit was
 * accepted) are given back once per job (`giveBack`); a replay counts them again (`recount`).
 */
export class TenantUsage {
  readonly #redis: RedisClient;
  readonly #keys: ReturnType<typeof atelierKeys>;

  constructor(redis: RedisClient, prefix: string) {
    this.#redis = redis;
    this.#keys = atelierKeys(prefix);
  }

  /**
   * Counts the reservation unless it would take the tenant's day past `limit` (undefined: no
   * limit); then it is pending until `deadline` (confirm it once the work is queued).
   */
  async reserve(
    r: Reservation,
    limit: number | undefined,
    deadline: number,
  ): Promise<{ reserved: boolean; used: number }> {
    const [reserved, used] = (await RESERVE.run(
      this.#redis,
      [this.#keys.usage.day(r.tenant, r.day), this.#keys.usage.pending],
      [limit ?? -1, r.images, r.jobs, memberOf(r), deadline, expireAt(r.day)],
    )) as [number, number];
    return { reserved: reserved === 1, used };
  }

  /** Counts work queued without a reservation (its tenant has no quota to hold it to). */
  async count(work: { tenant: string; day: string; images: number; jobs: number }): Promise<void> {
    const key = this.#keys.usage.day(work.tenant, work.day);
    await COUNT.run(this.#redis, [key], [work.images, work.jobs, expireAt(work.day)]);
  }

  /** The work is queued: the reservation stands. */
  async confirm(r: Reservation): Promise<void> {
    await this.#redis.zrem(this.#keys.usage.pending, memberOf(r));
  }

  /** The work was not queued (refused, or it existed already): given back now, once. */
  async cancel(r: Reservation): Promise<boolean> {
    const keys = [this.#keys.usage.pending, this.#keys.usage.day(r.tenant, r.day)];
    return (await CANCEL.run(this.#redis, keys, [memberOf(r), r.images, r.jobs])) === 1;
  }

  /** Reservations past their deadline (oldest first, at most `count`). */
  async due(now: number, count = 100): Promise<Reservation[]> {
    const members = await this.#redis.zrangebyscore(
      this.#keys.usage.pending,
      '-inf',
      now,
      'LIMIT',
      0,
      count,
    );
    return members.map(reservationOf).filter((r): r is Reservation => r !== undefined);
  }

  /**
   * Settles a reservation past its deadline (see `DueSettlement`). `jobKey`: the BullMQ job
   * hash a job reservation stands for; `nextDeadline`: when to look at a batch still being
   * queued again.
   */
  async settleDue(
    r: Reservation,
    where: { jobKey?: string; nextDeadline: number },
  ): Promise<DueSettlement> {
    const k = this.#keys;
    const member = memberOf(r);
    const day = k.usage.day(r.tenant, r.day);
    const result =
      r.kind === 'job'
        ? await SETTLE_JOB.run(
            this.#redis,
            [k.usage.pending, day, where.jobKey ?? '', k.deadLetters.entries],
            [member, r.images, r.jobs, r.id],
          )
        : await SETTLE_BATCH.run(
            this.#redis,
            [k.usage.pending, day, k.batch.meta(r.id)],
            [member, r.images, r.jobs, r.id, where.nextDeadline],
          );
    return (['gone', 'confirmed', 'given-back', 'extended'] as const)[Number(result)] ?? 'gone';
  }

  /** A job's images were never paid for: given back to the day they were counted on, once. */
  async giveBack(job: { id: string; tenant: string; day: string; images: number }) {
    const keys = [
      this.#keys.usage.day(job.tenant, job.day),
      this.#keys.usage.returned(job.tenant, job.day),
    ];
    return (await GIVE_BACK.run(this.#redis, keys, [job.id, job.images, expireAt(job.day)])) === 1;
  }

  /** A job whose images were given back runs again (a replay): they count again, once. */
  async recount(job: { id: string; tenant: string; day: string; images: number }) {
    const keys = [
      this.#keys.usage.day(job.tenant, job.day),
      this.#keys.usage.returned(job.tenant, job.day),
    ];
    return (await RECOUNT.run(this.#redis, keys, [job.id, job.images, expireAt(job.day)])) === 1;
  }

  /** The tenant's figures for each day (days without any: zeros), read in one `MULTI`. */
  async read(tenant: string, days: readonly string[]): Promise<UsageDayFigures[]> {
    if (days.length === 0) return [];
    const tx = this.#redis.multi();
    for (const day of days) tx.hmget(this.#keys.usage.day(tenant, day), 'images', 'jobs');
    const replies = await tx.exec();
    if (!replies) throw new Error('the usage read transaction was aborted');
    return days.map((day, i) => {
      const [error, value] = replies[i] ?? [];
      if (error) throw error;
      const [images, jobs] = (value ?? []) as Array<string | null>;
      return { day, images: Number(images ?? 0), jobs: Number(jobs ?? 0) };
    });
  }
}

/** `kind|queue|id|tenant|day|images|jobs` (no part contains `|`). */
function memberOf(r: Reservation): string {
  return [r.kind, r.queue, r.id, r.tenant, r.day, r.images, r.jobs].join('|');
}

function reservationOf(member: string): Reservation | undefined {
  const [kind, queue, id, tenant, day, images, jobs] = member.split('|');
  if ((kind !== 'job' && kind !== 'batch') || !queue || !id || !tenant || !day) return undefined;
  return { kind, queue, id, tenant, day, images: Number(images), jobs: Number(jobs) };
}

/** When a day's usage keys expire (epoch ms): `KEEP_DAYS` after the day. */
export function usageExpireAt(day: string): number {
  return expireAt(day);
}

function expireAt(day: string): number {
  return (usageDayStart(day) ?? Date.now()) + KEEP_DAYS * DAY_MS;
}
