import { createLogger, failure, type Outcome, ProviderError } from '@atelier/shared';
import { CmeRateLimiter, type CmeTicket, TicketStore } from '@atelier/worker';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptMonitor, undeclaredKeys } from '../../packages/store/test/support/script-monitor.ts';
import { DrawingHealth } from '../../packages/worker/src/drawing/drawing-health.ts';
import { LearnedPollTiming } from '../../packages/worker/src/drawing/learned-poll-timing.ts';
import { RedisTestContext } from '../support/redis-context.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

/**
 * Runs every script of the worker's drawing health, learned poll timing, CME rate limit and CME
 * ticket store once.
 */
async function exercise(redis: Redis, prefix: string): Promise<void> {
  const health = new DrawingHealth({
    redis,
    prefix,
    logger: createLogger({ name: 'scripts', level: 'silent' }),
    backoffMs: 60_000,
    streak: 1,
  });
  await health.recordMaintenance('500');
  await health.recordMisroute(60_000);
  // Enough answers over enough pairs that the write also rescales and prunes.
  const timing = new LearnedPollTiming({
    redis,
    prefix,
    schedule: {
      firstMs: 8000,
      intervalMs: 5000,
      maxIntervalMs: 30_000,
      deadlineMs: 600_000,
      costMs: 1500,
    },
    flushMs: 60_000,
    stats: { halfLife: 2, maxGroups: 4 },
  });
  for (let i = 0; i < 60; i++) {
    timing.observe('1024*1024x1', { from: (i % 12) - 1, to: (i % 12) + 1, done: i % 2 === 0 });
  }
  await timing.close();
  await new CmeRateLimiter({ redis, prefix, ratePerSec: 10 }).reserve('Material');
  const login = async (userId: string): Promise<Outcome<CmeTicket>> =>
    userId === 'u1'
      ? { kind: 'ok', value: { authorization: 'tk', platform: 'p1', userId, obtainedAt: 1 } }
      : failure(new ProviderError('no', { provider: 'cme', kind: 'terminal', code: 'X' }));
  const tickets = new TicketStore({
    redis,
    prefix,
    platform: 'p1',
    login,
    maxAgeMs: 0,
    lockTtlMs: 5000,
    waitTimeoutMs: 5000,
  });
  const got = await tickets.get('u1');
  if (got.kind !== 'ok') throw new Error('no ticket');
  await tickets.invalidate('u1', got.value);
}

describe("the worker's Lua scripts (drawing health, poll timing, CME rate limit and tickets)", () => {
  it('run by SHA once the server has them, and touch only keys they declare in KEYS', async () => {
    const redis = ctx.connection() as Redis;
    await exercise(redis, ctx.prefix('warm'));

    const prefix = ctx.prefix('watched');
    const monitor = await ScriptMonitor.start(redis, prefix);
    ctx.onCleanup(async () => monitor.close());
    await exercise(redis, prefix);
    const calls = await monitor.stop(redis);

    expect(new Set(calls.map((call) => call.script)).size).toBe(6);
    expect(calls.filter((call) => call.command === 'eval').map((call) => call.script)).toEqual([]);
    expect(undeclaredKeys(calls)).toEqual([]);
  });
});
