import { createHash } from 'node:crypto';
import { createRedisConnection, LuaScript } from '@atelier/store';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../../../test/support/redis-context.ts';
import { startRedisServer } from '../../../test/support/redis-server.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const SOURCE = `
redis.call('SET', KEYS[1], ARGV[1])
return redis.call('INCRBY', KEYS[2], ARGV[2])
`;
const sha = createHash('sha1').update(SOURCE).digest('hex');

/** A private server: SCRIPT FLUSH must not pull scripts from under other test files. */
async function privateRedis(): Promise<Redis> {
  const server = await startRedisServer();
  ctx.onCleanup(() => server.stop());
  const redis = createRedisConnection({ url: server.url, role: 'worker' }) as Redis;
  ctx.onCleanup(async () => redis.disconnect());
  return redis;
}

describe('LuaScript', () => {
  it('loads itself where the server lacks it (first run, after SCRIPT FLUSH) and then runs by SHA', async () => {
    const redis = await privateRedis();
    const script = new LuaScript(SOURCE);
    expect(await redis.script('EXISTS', sha)).toEqual([0]);

    expect(await script.run(redis, ['a', 'n'], ['x', 2])).toBe(2);
    expect(await redis.script('EXISTS', sha)).toEqual([1]);
    expect(await script.run(redis, ['a', 'n'], ['y', 3])).toBe(5);

    await redis.script('FLUSH');
    expect(await redis.script('EXISTS', sha)).toEqual([0]);
    expect(await script.run(redis, ['b', 'n'], ['z', 1])).toBe(6);
    expect(await redis.mget('a', 'b')).toEqual(['y', 'z']);
    expect(await redis.script('EXISTS', sha)).toEqual([1]);
  });

  it('passes on errors other than NOSCRIPT, without running the script a second time', async () => {
    const redis = await privateRedis();
    const failing = new LuaScript(`
redis.call('INCR', KEYS[1])
return redis.error_reply('BOOM after counting')
`);
    await expect(failing.run(redis, ['runs'], [])).rejects.toThrow('BOOM after counting');
    // First run: EVALSHA answered NOSCRIPT, EVAL ran it once; now by SHA, once more.
    expect(await redis.get('runs')).toBe('1');
    await expect(failing.run(redis, ['runs'], [])).rejects.toThrow('BOOM after counting');
    expect(await redis.get('runs')).toBe('2');
  });
});
