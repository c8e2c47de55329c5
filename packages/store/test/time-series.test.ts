import { atelierKeys } from '@atelier/shared';
import {
  bucketStart,
  LATENCY_BOUNDS_MS,
  latencyBucket,
  type RedisClient,
  STATS_FIELD,
  type StatsCounts,
  TimeSeries,
} from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../../../test/support/redis-context.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const counts = (entries: Array<[number, Record<string, number>]>): StatsCounts =>
  new Map(entries.map(([at, fields]) => [at, new Map(Object.entries(fields))]));

async function statsKeys(redis: RedisClient, prefix: string) {
  const keys = await redis.keys(`${prefix}:sys:stats:*`);
  return {
    minutes: keys.filter((k) => k.includes(':stats:m:')).length,
    hours: keys.filter((k) => k.includes(':stats:h:')).length,
    keys,
  };
}

/** Every bounded dimension once: what a busy deployment writes into each minute. */
function everyField(scale: number): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const queue of ['drawing', 'cme']) {
    for (const counter of ['completed', 'dead', 'retried'] as const) {
      fields[STATS_FIELD.queue(queue, counter)] = 7 * scale;
    }
    for (let b = 0; b <= LATENCY_BOUNDS_MS.length; b++)
      fields[STATS_FIELD.latency(queue, b)] = scale;
  }
  fields[STATS_FIELD.pollsSum('drawing')] = 13 * scale;
  fields[STATS_FIELD.pollsTasks('drawing')] = 7 * scale;
  for (const code of ['200', '202', 'APIGW.0308', 'HTTP_503', 'other']) {
    fields[STATS_FIELD.code('drawing', code)] = 3 * scale;
  }
  for (const code of ['Success', 'AuthFailure.SessionInvalid', 'other']) {
    fields[STATS_FIELD.code('cme', code)] = 3 * scale;
  }
  fields[STATS_FIELD.login('ok')] = scale;
  fields[STATS_FIELD.images('default')] = 11 * scale;
  return fields;
}

describe('TimeSeries', () => {
  it('adds counts into minute buckets and rolls them up into their hour, across writers', async () => {
    const prefix = ctx.prefix('ts');
    const hour = bucketStart('hour', Date.now()) - 2 * HOUR;
    const workerA = new TimeSeries(ctx.connection(), prefix);
    const workerB = new TimeSeries(ctx.connection(), prefix);
    const done = STATS_FIELD.queue('drawing', 'completed');
    const dead = STATS_FIELD.queue('cme', 'dead');

    await workerA.add(
      counts([
        [hour + 5 * MINUTE, { [done]: 3 }],
        [hour + 6 * MINUTE, { [done]: 2, [dead]: 1 }],
      ]),
    );
    await workerB.add(counts([[hour + 5 * MINUTE, { [done]: 4 }]]));
    await workerB.add(counts([[hour + HOUR + 1 * MINUTE, { [done]: 10 }]]));

    const minutes = await workerA.read('minute', hour + 4 * MINUTE, hour + 7 * MINUTE);
    expect(minutes).toEqual([
      { at: hour + 4 * MINUTE, counts: {} },
      { at: hour + 5 * MINUTE, counts: { [done]: 7 } },
      { at: hour + 6 * MINUTE, counts: { [done]: 2, [dead]: 1 } },
    ]);
    const hours = await workerA.read('hour', hour, hour + 2 * HOUR);
    expect(hours).toEqual([
      { at: hour, counts: { [done]: 9, [dead]: 1 } },
      { at: hour + HOUR, counts: { [done]: 10 } },
    ]);

    // Each bucket expires by itself: minutes 48 h after they end, hours 30 days after.
    const redis = ctx.connection();
    const keys = atelierKeys(prefix).stats;
    const minuteExpiry = await redis.pexpiretime(keys.minute((hour + 5 * MINUTE) / 1000));
    const hourExpiry = await redis.pexpiretime(keys.hour(hour / 1000));
    expect(minuteExpiry).toBe(hour + 6 * MINUTE + 48 * HOUR);
    expect(hourExpiry).toBe(hour + HOUR + 30 * DAY);
  });

  it('sums steps from the right buckets: minutes for sub-hour steps, hours for whole hours', async () => {
    const prefix = ctx.prefix('ts');
    const series = new TimeSeries(ctx.connection(), prefix);
    const day = Math.floor(Date.now() / DAY) * DAY - DAY; // yesterday, 00:00 UTC
    const field = STATS_FIELD.images('default');
    // One image a minute for the 30 minutes from 00:10; three at 05:00; two the next day.
    await series.add(
      counts([
        ...Array.from({ length: 30 }, (_, i): [number, Record<string, number>] => [
          day + 10 * MINUTE + i * MINUTE,
          { [field]: 1 },
        ]),
        [day + 5 * HOUR, { [field]: 3 }],
        [day + DAY + HOUR, { [field]: 2 }],
      ]),
    );

    const fiveMinutes = await series.series({
      from: day + 12 * MINUTE,
      to: day + 40 * MINUTE,
      stepMs: 5 * MINUTE,
    });
    expect(fiveMinutes.resolution).toBe('minute');
    expect(fiveMinutes.from).toBe(day + 10 * MINUTE); // aligned down to a step
    expect(fiveMinutes.times).toHaveLength(6);
    expect(fiveMinutes.images.default).toEqual([5, 5, 5, 5, 5, 5]);

    const hourly = await series.series({ from: day, to: day + 6 * HOUR, stepMs: HOUR });
    expect(hourly.resolution).toBe('hour');
    expect(hourly.images.default).toEqual([30, 0, 0, 0, 0, 3]);
    const daily = await series.series({ from: day, to: day + 2 * DAY, stepMs: DAY });
    expect(daily.images.default).toEqual([33, 2]);
    // Every job queue is there even when nothing happened.
    expect(Object.keys(daily.queues).sort()).toEqual(['cme', 'drawing']);
    expect(daily.queues.drawing?.completed).toEqual([0, 0]);
    expect(daily.queues.drawing?.latencyMs.p99).toEqual([null, null]);
  });

  it('derives latency percentiles from the fixed histogram and polls per task from sums', async () => {
    const prefix = ctx.prefix('ts');
    const series = new TimeSeries(ctx.connection(), prefix);
    const at = bucketStart('minute', Date.now()) - 10 * MINUTE;
    // 90 jobs done in 1.0–2.5 s, 9 in 5–10 s, 1 in 30–60 s.
    await series.add(
      counts([
        [
          at,
          {
            [STATS_FIELD.latency('drawing', latencyBucket(1200))]: 90,
            [STATS_FIELD.latency('drawing', latencyBucket(7000))]: 9,
            [STATS_FIELD.latency('drawing', latencyBucket(45_000))]: 1,
            [STATS_FIELD.pollsSum('drawing')]: 150,
            [STATS_FIELD.pollsTasks('drawing')]: 100,
          },
        ],
      ]),
    );
    const { queues, pollsPerTask } = await series.series({
      from: at,
      to: at + MINUTE,
      stepMs: MINUTE,
    });
    // p50: rank 50 of 90 in [1000, 2500); p95: rank 95 → 5th of 9 in [5000, 10000);
    // p99: rank 99 → the 9th of 9 in [5000, 10000), its upper end.
    expect(queues.drawing?.latencyMs).toEqual({ p50: [1833], p95: [7778], p99: [10_000] });
    expect(pollsPerTask.drawing).toEqual([1.5]);
  });

  it('keeps a bounded number of keys over days of traffic: 48 h of minutes, 30 days of hours', async () => {
    const prefix = ctx.prefix('ts');
    const redis = ctx.connection();
    const series = new TimeSeries(redis, prefix);
    const now = Date.now();
    const field = STATS_FIELD.queue('drawing', 'completed');
    // One count in every minute of the last 72 hours, and one every hour for 40 days before.
    const minutes = 72 * 60;
    for (let chunk = 0; chunk < minutes; chunk += 720) {
      await series.add(
        counts(
          Array.from({ length: 720 }, (_, i): [number, Record<string, number>] => [
            now - (minutes - chunk - i) * MINUTE,
            { [field]: 1 },
          ]),
        ),
      );
    }
    await series.add(
      counts(
        Array.from({ length: 40 * 24 }, (_, i): [number, Record<string, number>] => [
          now - 72 * HOUR - i * HOUR,
          { [field]: 1 },
        ]),
      ),
    );

    const { minutes: minuteKeys, hours: hourKeys } = await statsKeys(redis, prefix);
    // Minutes older than 48 h and hours older than 30 days are not kept (they expire, or are
    // never written when already past their retention).
    expect(minuteKeys).toBeGreaterThanOrEqual(48 * 60 - 1);
    expect(minuteKeys).toBeLessThanOrEqual(48 * 60 + 1);
    expect(hourKeys).toBeGreaterThanOrEqual(30 * 24 - 1);
    expect(hourKeys).toBeLessThanOrEqual(30 * 24 + 1);
    // The last day's hours still count every minute rolled up into them.
    const lastDay = await series.series({ from: now - DAY, to: now, stepMs: HOUR });
    expect(lastDay.times.length).toBeGreaterThanOrEqual(24);
    expect(lastDay.queues.drawing?.completed.slice(1, -1)).toEqual(
      new Array(lastDay.times.length - 2).fill(60),
    );
  });

  it('stays the same size whatever the traffic: 100 times the events, same keys, same memory', async () => {
    const redis = ctx.connection();
    const start = bucketStart('hour', Date.now()) - 3 * HOUR;
    /** An hour of traffic, each minute flushed `flushes` times with every field. */
    async function hourOfTraffic(prefix: string, flushes: number, scale: number) {
      const series = new TimeSeries(redis, prefix);
      for (let flush = 0; flush < flushes; flush++) {
        await series.add(
          counts(
            Array.from({ length: 60 }, (_, m): [number, Record<string, number>] => [
              start + m * MINUTE,
              everyField(scale),
            ]),
          ),
        );
      }
      const { keys } = await statsKeys(redis, prefix);
      let bytes = 0;
      let fields = 0;
      for (const key of keys) {
        bytes += (await redis.memory('USAGE', key, 'SAMPLES', '0')) ?? 0;
        fields += await redis.hlen(key);
      }
      return { keys: keys.length, fields, bytes };
    }

    const quiet = await hourOfTraffic(ctx.prefix('quiet'), 1, 1);
    const busy = await hourOfTraffic(ctx.prefix('busy'), 10, 10);
    // 60 minute buckets and 1 hour bucket, each with every field: 61 keys.
    expect(quiet.keys).toBe(61);
    expect(busy.keys).toBe(quiet.keys);
    expect(busy.fields).toBe(quiet.fields);
    // Only the width of the integers grows (a few bytes a field), not the number of entries.
    expect(busy.bytes).toBeLessThan(quiet.bytes * 1.25);
    console.info(
      `time series, an hour of every field: ${quiet.keys} keys, ${quiet.fields} fields, ${quiet.bytes} bytes ` +
        `(100× the events: ${busy.keys} keys, ${busy.fields} fields, ${busy.bytes} bytes)`,
    );
  });
});
