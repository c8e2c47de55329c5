import { afterEach, describe, expect, it } from 'vitest';
import { LearnedPollTiming } from '../../packages/worker/src/drawing/learned-poll-timing.ts';
import { RedisTestContext } from '../support/redis-context.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

function timing() {
  const learned = new LearnedPollTiming({
    redis: ctx.connection(),
    prefix: ctx.prefix('learn'),
    defaultFirstMs: 8000,
    defaultGapMs: 5000,
    ceilingMs: 600_000,
    cacheMs: 0,
  });
  ctx.onCleanup(() => learned.close());
  return learned;
}

/** A seeded PRNG so the test is the same every run. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('learned poll timing', () => {
  it('settles the first poll near the 60th percentile of durations, from answers alone', async () => {
    const learned = timing();
    const next = random(42);
    const shape = '1024*1024x1';
    for (let i = 0; i < 1500; i++) {
      const { firstMs } = await learned.times(shape);
      const duration = 5000 + next() * 10_000; // uniform 5..15 s: p60 = 11 s
      learned.observe(shape, 'first', duration <= firstMs, firstMs);
      if (i % 10 === 9) await learned.flush();
    }
    await learned.flush();
    const { firstMs } = await learned.times(shape);
    // p60 is 11 s; the estimate wanders around it by a step or two.
    expect(firstMs).toBeGreaterThan(9500);
    expect(firstMs).toBeLessThan(12_500);
  });

  it('a burst of answers to polls aimed at an old guess cannot push it past where they looked', async () => {
    const learned = timing();
    const shape = '1536*1024x2';
    // 300 polls all looked at 8 s; 70% were still pending.
    for (let i = 0; i < 300; i++) learned.observe(shape, 'first', i % 10 < 3, 8000);
    await learned.flush();
    const { firstMs } = await learned.times(shape);
    expect(firstMs).toBeGreaterThan(8000);
    expect(firstMs).toBeLessThanOrEqual(8000 * 1.25);
  });

  it('learns that instant tasks need no wait at all', async () => {
    const learned = timing();
    const shape = '1024*1536x1';
    for (let i = 0; i < 400; i++) {
      const { firstMs } = await learned.times(shape);
      learned.observe(shape, 'first', true, firstMs, 0);
      if (i % 20 === 19) await learned.flush();
    }
    await learned.flush();
    expect((await learned.times(shape)).firstMs).toBeLessThan(100);
    expect((await learned.recent(shape)).length).toBeGreaterThan(0);
  });

  it('jobs that find the cache stale at the same moment share one read', async () => {
    const connection = ctx.connection();
    let reads = 0;
    const counting = new Proxy(connection, {
      get(target, property) {
        if (property === 'hmget') reads++;
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const learned = new LearnedPollTiming({
      redis: counting,
      prefix: ctx.prefix('learn'),
      defaultFirstMs: 8000,
      defaultGapMs: 5000,
      ceilingMs: 600_000,
    });
    ctx.onCleanup(() => learned.close());
    const all = await Promise.all(Array.from({ length: 50 }, () => learned.times('1024*1024x1')));
    expect(reads).toBe(1);
    expect(new Set(all.map((t) => t.firstMs))).toEqual(new Set([8000]));
  });
});
