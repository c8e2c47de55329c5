import { atelierKeys } from '@atelier/shared';
import type { RedisClient } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CensoredDurations,
  type ObservationGroup,
} from '../../packages/worker/src/drawing/censored-durations.ts';
import {
  LearnedPollTiming,
  type LearnedPollTimingOptions,
} from '../../packages/worker/src/drawing/learned-poll-timing.ts';
import { RedisTestContext } from '../support/redis-context.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const SCHEDULE = {
  firstMs: 8000,
  intervalMs: 5000,
  maxIntervalMs: 30_000,
  deadlineMs: 600_000,
  costMs: 1500,
};

function timing(prefix: string, overrides: Partial<LearnedPollTimingOptions> = {}) {
  const learned = new LearnedPollTiming({
    redis: ctx.connection(),
    prefix,
    schedule: SCHEDULE,
    flushMs: 10_000,
    ...overrides,
  });
  ctx.onCleanup(() => learned.close());
  return learned;
}

/** A connection that counts the commands sent through it. */
function counting(connection: RedisClient, counts: Map<string, number>): RedisClient {
  return new Proxy(connection, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        counts.set(String(property), (counts.get(String(property)) ?? 0) + 1);
        return value.apply(target, args);
      };
    },
  });
}

const byPair = (a: ObservationGroup, b: ObservationGroup) => a.from - b.from || a.to - b.to;

describe('learned poll timing in Redis', () => {
  it('stores exactly what CensoredDurations computes: decay, rescale and pruning alike', async () => {
    const options = { halfLife: 10, maxGroups: 8 };
    const learned = timing(ctx.prefix('learn'), { stats: options });
    const local = new CensoredDurations(options);
    const shape = '1024*1024x1';
    // 400 answers over 20 distinct (from, to) pairs: many rescales (2^(400/10)) and prunes.
    for (let round = 0; round < 40; round++) {
      const from = (round * 7) % 20;
      const answers = Array.from({ length: 10 }, (_, i) => ({
        from: from - 1,
        to: from + 1 + (i % 3),
        done: i % 4 === 0,
      }));
      for (const answer of answers) learned.observe(shape, answer);
      await learned.flush();
      const groups = new Map<string, ObservationGroup>();
      for (const a of answers) {
        const key = `${a.from}:${a.to}`;
        const g = groups.get(key) ?? { from: a.from, to: a.to, n: 0, done: 0 };
        g.n++;
        if (a.done) g.done++;
        groups.set(key, g);
      }
      local.add([...groups.values()]);
    }
    const stored = await learned.statistics(shape);
    expect(stored.count).toBe(400);
    expect(stored.size).toBe(local.size);
    expect(stored.size).toBeLessThanOrEqual(8);
    const expected = local.groups().sort(byPair);
    const actual = stored.groups().sort(byPair);
    expect(actual.map(({ from, to }) => [from, to])).toEqual(
      expected.map(({ from, to }) => [from, to]),
    );
    for (const [i, g] of actual.entries()) {
      expect(g.n).toBeCloseTo(expected[i]?.n ?? -1, 9);
      expect(g.done).toBeCloseTo(expected[i]?.done ?? -1, 9);
    }
  });

  it('what one worker learns, another plans with (instant tasks: poll at once)', async () => {
    const prefix = ctx.prefix('learn');
    const a = timing(prefix);
    const b = timing(prefix, { refreshMs: 0 });
    const shape = '1024*1536x1';
    expect((await b.policy(shape)).next(-1)).not.toBe(0);
    for (let i = 0; i < 200; i++) a.observe(shape, { from: -1, to: 0, done: true });
    await a.flush();
    expect((await b.policy(shape)).next(-1)).toBe(0);
    // The statistics expire if the shape is never seen again.
    const ttl = await ctx.connection().pttl(atelierKeys(prefix).drawing.pollStats(shape));
    expect(ttl).toBeGreaterThan(0);
  });

  it('costs a job no Redis round trip: answers are written in batches, the schedule is reused', async () => {
    const counts = new Map<string, number>();
    const learned = new LearnedPollTiming({
      redis: counting(ctx.connection(), counts),
      prefix: ctx.prefix('learn'),
      schedule: SCHEDULE,
      flushMs: 10_000,
      refreshMs: 60_000,
    });
    ctx.onCleanup(() => learned.close());
    const shape = '1536*1024x2';
    // 50 jobs find nothing cached at the same moment: one read between them.
    await Promise.all(Array.from({ length: 50 }, () => learned.policy(shape)));
    expect(counts.get('hgetall')).toBe(1);
    for (let i = 0; i < 500; i++) {
      await learned.policy(shape);
      learned.observe(shape, { from: -1, to: 100, done: i % 2 === 0 });
    }
    expect(counts.get('hgetall')).toBe(1);
    expect(counts.get('evalsha') ?? 0).toBe(0);
    await learned.flush();
    expect(counts.get('evalsha')).toBe(1);
    expect((await learned.statistics(shape)).count).toBe(500);
  });

  it('a failed read of the statistics plans with what it knew, or the configured schedule', async () => {
    let failing = false;
    const connection = ctx.connection();
    const flaky = new Proxy(connection, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property === 'hgetall' && failing) {
          return () => Promise.reject(new Error('connection lost'));
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const prefix = ctx.prefix('learn');
    const learned = new LearnedPollTiming({
      redis: flaky,
      prefix,
      schedule: SCHEDULE,
      refreshMs: 0,
    });
    ctx.onCleanup(() => learned.close());
    failing = true;
    // Nothing known yet: the configured schedule (first poll DRAWING_POLL_FIRST_MS).
    const cold = await learned.policy('1024*1024x3');
    expect(Math.abs(cold.timeMs(cold.next(-1) as number) - 8000)).toBeLessThan(400);
    // Known, then Redis goes away: it keeps what it knew.
    failing = false;
    const writer = timing(prefix);
    for (let i = 0; i < 200; i++) writer.observe('1024*1024x3', { from: -1, to: 0, done: true });
    await writer.flush();
    expect((await learned.policy('1024*1024x3')).next(-1)).toBe(0);
    failing = true;
    expect((await learned.policy('1024*1024x3')).next(-1)).toBe(0);
  });
});
