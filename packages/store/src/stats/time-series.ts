import { ALL_QUEUES, atelierKeys } from '@atelier/shared';
import { LuaScript } from '../lua-script.ts';
import type { RedisClient } from '../redis.ts';
import { type StatsSeries, statsSeries } from './stats-series.ts';

export type StatsResolution = 'minute' | 'hour';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** Length of a bucket. */
export const BUCKET_MS: Readonly<Record<StatsResolution, number>> = {
  minute: MINUTE_MS,
  hour: HOUR_MS,
};

/** How long a bucket is kept after it ends: minutes for 48 hours, hours for 30 days. */
export const STATS_RETENTION_MS: Readonly<Record<StatsResolution, number>> = {
  minute: 48 * HOUR_MS,
  hour: 30 * 24 * HOUR_MS,
};

/** The most buckets one read may ask for (48 h of minutes; 30 days of hours is 720). */
export const MAX_BUCKETS_PER_READ = 2880;

/** What `series` reads: `[from, to)` (epoch ms) in steps of `stepMs` (whole minutes). */
export interface StatsRange {
  from: number;
  to: number;
  stepMs: number;
}

/** Queues whose jobs are counted (callback deliveries are not jobs of their own). */
const JOB_QUEUES = ALL_QUEUES.filter((queue) => queue !== 'callbacks');

/** Counts to add, by the start (epoch ms) of the minute they happened in. */
export type StatsCounts = ReadonlyMap<number, ReadonlyMap<string, number>>;

/** One bucket read back: its start (epoch ms) and its counters (absent: 0). */
export interface StatsBucket {
  at: number;
  counts: Record<string, number>;
}

/**
 * Adds counts to bucket hashes and sets when each expires, for every bucket in one call.
 * KEYS: bucket hashes. ARGV, for each key in order: expire-at (epoch ms), n, then n
 * field/increment pairs.
 */
const ADD = new LuaScript(`
local a = 1
for k = 1, #KEYS do
  local expireAt = ARGV[a]
  local n = tonumber(ARGV[a + 1])
  a = a + 2
  for i = 1, n do
    redis.call('HINCRBY', KEYS[k], ARGV[a], ARGV[a + 1])
    a = a + 2
  end
  redis.call('PEXPIREAT', KEYS[k], expireAt)
end
return #KEYS
`);

/**
 * Atelier's own bounded time series in Redis: a hash of counters per minute (kept 48 hours)
 * and per hour (kept 30 days). Each `add` writes a minute's counts into its minute bucket and
 * rolls them up into its hour bucket in the same script, so the hour always holds the sum of
 * its minutes, also after they expire. Each bucket expires by itself with its retention: at most
 * 2880 minute and 720 hour hashes exist, each with a bounded set of fields (`STATS_FIELD`),
 * whatever the traffic. Workers aggregate in process and `add` every few seconds; several
 * workers add to the same buckets.
 */
export class TimeSeries {
  readonly #redis: RedisClient;
  readonly #keys: ReturnType<typeof atelierKeys>['stats'];
  readonly #now: () => number;

  constructor(redis: RedisClient, prefix: string, options: { now?: () => number } = {}) {
    this.#redis = redis;
    this.#keys = atelierKeys(prefix).stats;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Adds counts (by minute) to their minute and hour buckets in one script. Buckets already
   * past their retention are skipped. Counts must be integers.
   */
  async add(counts: StatsCounts): Promise<void> {
    const now = this.#now();
    const buckets = new Map<string, { expireAt: number; counts: Map<string, number> }>();
    const into = (key: string, expireAt: number, fields: ReadonlyMap<string, number>) => {
      if (expireAt <= now) return;
      let bucket = buckets.get(key);
      if (!bucket) {
        bucket = { expireAt, counts: new Map() };
        buckets.set(key, bucket);
      }
      for (const [field, n] of fields)
        bucket.counts.set(field, (bucket.counts.get(field) ?? 0) + n);
    };
    for (const [at, fields] of counts) {
      for (const resolution of ['minute', 'hour'] as const) {
        const start = bucketStart(resolution, at);
        const expireAt = start + BUCKET_MS[resolution] + STATS_RETENTION_MS[resolution];
        into(this.#key(resolution, start), expireAt, fields);
      }
    }
    const keys: string[] = [];
    const args: Array<string | number> = [];
    for (const [key, bucket] of buckets) {
      const fields = [...bucket.counts].filter(([, n]) => n !== 0);
      if (fields.length === 0) continue;
      keys.push(key);
      args.push(bucket.expireAt, fields.length);
      for (const [field, n] of fields) {
        if (!Number.isSafeInteger(n)) throw new RangeError(`count of ${field} must be an integer`);
        args.push(field, n);
      }
    }
    if (keys.length > 0) await ADD.run(this.#redis, keys, args);
  }

  /**
   * The buckets of one resolution whose start lies in [fromMs, toMs), oldest first, every one
   * listed (a bucket nothing was added to, or that expired, reads as no counts), in one MULTI.
   */
  async read(resolution: StatsResolution, fromMs: number, toMs: number): Promise<StatsBucket[]> {
    const step = BUCKET_MS[resolution];
    const starts: number[] = [];
    for (let at = bucketStart(resolution, fromMs); at < toMs; at += step) {
      if (at + step > fromMs) starts.push(at);
    }
    if (starts.length > MAX_BUCKETS_PER_READ) {
      throw new RangeError(
        `a read covers at most ${MAX_BUCKETS_PER_READ} buckets, got ${starts.length}`,
      );
    }
    if (starts.length === 0) return [];
    const multi = this.#redis.multi();
    for (const at of starts) multi.hgetall(this.#key(resolution, at));
    const replies = (await multi.exec()) ?? [];
    return starts.map((at, i) => {
      const [error, hash] = replies[i] ?? [new Error('no reply'), undefined];
      if (error) throw error;
      const counts: Record<string, number> = {};
      for (const [field, value] of Object.entries((hash ?? {}) as Record<string, string>)) {
        counts[field] = Number(value);
      }
      return { at, counts };
    });
  }

  /**
   * The series over a range: steps that are whole hours are summed from hour buckets, others
   * from minute buckets. `from` is aligned down to a step boundary (UTC); `to` is exclusive.
   */
  async series(range: StatsRange): Promise<StatsSeries> {
    const { to, stepMs } = range;
    if (!Number.isSafeInteger(stepMs) || stepMs <= 0 || stepMs % MINUTE_MS !== 0) {
      throw new RangeError(`stepMs must be a whole number of minutes, got ${stepMs}`);
    }
    const resolution: StatsResolution = stepMs % HOUR_MS === 0 ? 'hour' : 'minute';
    const from = Math.floor(range.from / stepMs) * stepMs;
    const buckets = await this.read(resolution, from, to);
    return statsSeries(buckets, { from, to, stepMs, resolution, queues: JOB_QUEUES });
  }

  #key(resolution: StatsResolution, startMs: number): string {
    const startSec = Math.floor(startMs / 1000);
    return resolution === 'minute' ? this.#keys.minute(startSec) : this.#keys.hour(startSec);
  }
}

/** Start (epoch ms, UTC-aligned) of the bucket holding `at`. */
export function bucketStart(resolution: StatsResolution, at: number): number {
  const step = BUCKET_MS[resolution];
  return Math.floor(at / step) * step;
}
