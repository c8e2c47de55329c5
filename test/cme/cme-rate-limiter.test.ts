import { type CmeOperation, outcomeLabel } from '@atelier/shared';
import { CmeRateLimiter } from '@atelier/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { seedMaterials, startCmeHarness } from './cme-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

/** The most calls that fall inside any window of `windowMs`. */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] ?? 0) - (sorted[j] ?? 0) >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('CmeRateLimiter (shared through Redis)', () => {
  it('caps calls per second across two limiter instances', async () => {
    const prefix = ctx.prefix();
    const options = { prefix, ratePerSec: 50, maxWaitMs: 10_000 };
    const limiters = [
      new CmeRateLimiter({ ...options, redis: ctx.connection() }),
      new CmeRateLimiter({ ...options, redis: ctx.connection() }),
    ];
    const started = Date.now();
    const slots = await Promise.all(
      Array.from({ length: 120 }, async (_, i) => {
        const decision = await limiters[i % 2]?.reserve('Material');
        if (decision?.kind !== 'go') throw new Error('expected a slot');
        const scheduled = Date.now() + decision.afterMs;
        await new Promise((resolve) => setTimeout(resolve, decision.afterMs));
        return { scheduled, ran: Date.now() };
      }),
    );
    // 120 calls at 50/s: the last one goes about 2.38 s after the first.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2300);
    // The schedule holds 50 a second (+1 at the window's edge); timers add a little jitter.
    expect(
      busiestWindow(
        slots.map((s) => s.scheduled),
        1000,
      ),
    ).toBeLessThanOrEqual(51);
    expect(
      busiestWindow(
        slots.map((s) => s.ran),
        1000,
      ),
    ).toBeLessThanOrEqual(55);
  });

  it('keeps action classes apart', async () => {
    const limiter = new CmeRateLimiter({
      redis: ctx.connection(),
      prefix: ctx.prefix(),
      ratePerSec: 1,
    });
    expect(await limiter.reserve('Material')).toEqual({ kind: 'go', afterMs: 0 });
    expect(await limiter.reserve('Team')).toEqual({ kind: 'go', afterMs: 0 });
    const next = await limiter.reserve('Material');
    expect(next.kind).toBe('go');
    if (next.kind === 'go') expect(next.afterMs).toBeGreaterThan(900);
  });

  it('says "wait" without reserving when the next slot is beyond maxWaitMs', async () => {
    const limiter = new CmeRateLimiter({
      redis: ctx.connection(),
      prefix: ctx.prefix(),
      ratePerSec: 2,
      maxWaitMs: 600,
    });
    expect((await limiter.reserve('Material')).kind).toBe('go');
    expect(await limiter.reserve('Material')).toMatchObject({ kind: 'go' });
    const refused = await limiter.reserve('Material');
    expect(refused.kind).toBe('wait');
    if (refused.kind === 'wait') expect(refused.waitMs).toBeGreaterThan(600);
    // Nothing was reserved: asking again gives the same answer, not a later one.
    const again = await limiter.reserve('Material');
    if (again.kind !== 'wait' || refused.kind !== 'wait') throw new Error('expected wait');
    expect(again.waitMs).toBeLessThanOrEqual(refused.waitMs);
  });

  it('allows a burst when configured', async () => {
    const limiter = new CmeRateLimiter({
      redis: ctx.connection(),
      prefix: ctx.prefix(),
      ratePerSec: 1,
      burst: 3,
    });
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.reserve('Material'));
    expect(decisions.slice(0, 3)).toEqual([
      { kind: 'go', afterMs: 0 },
      { kind: 'go', afterMs: 0 },
      { kind: 'go', afterMs: 0 },
    ]);
    expect(decisions[3]?.kind === 'go' && decisions[3].afterMs).toBeGreaterThan(900);
  });

  it('two runners share the limit: 40 operations at 20/s take about two seconds', async () => {
    const h = await startCmeHarness(ctx, { config: { rateLimitPerSec: 20 } });
    const [id = ''] = seedMaterials(h.simulator, 'u1', 1);
    const runners = [h.runner({ maxRateWaitMs: 5000 }), h.runner({ maxRateWaitMs: 5000 })];
    const op: CmeOperation = {
      userId: 'u1',
      action: 'Material/DescribeMaterials',
      params: { MaterialIds: [id] },
    };
    const ends: number[] = [];
    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const outcome = await runners[i % 2]?.run(op);
        ends.push(Date.now());
        return outcome && outcomeLabel(outcome);
      }),
    );
    expect(outcomes.every((k) => k === 'ok')).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(busiestWindow(ends, 1000)).toBeLessThanOrEqual(23);
  });

  it('a runner that would wait too long reports throttled with the wait as hint', async () => {
    const h = await startCmeHarness(ctx, { config: { rateLimitPerSec: 5 } });
    const [id = ''] = seedMaterials(h.simulator, 'u1', 1);
    const runner = h.runner({ maxRateWaitMs: 300 });
    const op: CmeOperation = {
      userId: 'u1',
      action: 'Material/DescribeMaterials',
      params: { MaterialIds: [id] },
    };
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => runner.run(op)));
    const throttled = outcomes.filter((o) => outcomeLabel(o) === 'throttled');
    expect(outcomes.filter((o) => o.kind === 'ok').length).toBeLessThanOrEqual(3);
    expect(throttled.length).toBeGreaterThanOrEqual(7);
    for (const o of throttled) {
      if (o.kind !== 'failed') continue;
      expect(o.error.code).toBe('RATE_LIMITED');
      expect(o.error.retryAfterMs).toBeGreaterThan(300);
    }
  });
});
