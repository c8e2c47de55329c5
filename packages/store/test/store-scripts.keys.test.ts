import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../../../test/support/redis-context.ts';
import {
  BULLMQ_SCRIPTS_RUN,
  EXERCISED,
  exerciseEveryScript,
  STORE_SCRIPT_COUNT,
} from './support/exercise-scripts.ts';
import { ScriptMonitor, undeclaredKeys } from './support/script-monitor.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe("the store's Lua scripts", () => {
  it('run by SHA once the server has them, and touch only keys they declare in KEYS (Redis Cluster needs it)', async () => {
    const redis = ctx.connection() as Redis;
    // The first round loads every script into the server.
    expect(await exerciseEveryScript(redis, ctx.prefix('warm'))).toEqual(EXERCISED);

    const prefix = ctx.prefix('watched');
    const monitor = await ScriptMonitor.start(redis, prefix);
    ctx.onCleanup(async () => monitor.close());
    expect(await exerciseEveryScript(redis, prefix)).toEqual(EXERCISED);
    const calls = await monitor.stop(redis);

    expect(new Set(calls.map((call) => call.script)).size).toBe(
      STORE_SCRIPT_COUNT + BULLMQ_SCRIPTS_RUN,
    );
    expect(calls.filter((call) => call.command === 'eval').map((call) => call.script)).toEqual([]);
    expect(undeclaredKeys(calls)).toEqual([]);
  });
});
