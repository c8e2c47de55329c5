import { createRedisConnection, redisReady } from '@atelier/store';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../../../test/support/redis-context.ts';
import { freePort, startRedisServer } from '../../../test/support/redis-server.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('Redis connection factory', () => {
  it('worker connections wait through reconnects; producer connections fail fast', async () => {
    const worker = ctx.connection('worker') as Redis;
    const producer = ctx.connection('producer') as Redis;
    expect(worker.options.maxRetriesPerRequest).toBeNull();
    expect(producer.options.enableOfflineQueue).toBe(false);
    expect(await worker.ping()).toBe('PONG');
    await redisReady(producer);
    expect(await producer.ping()).toBe('PONG');
  });

  it('a producer connection to an unreachable Redis errors within a second', async () => {
    const port = await freePort();
    const producer = createRedisConnection({ url: `redis://127.0.0.1:${port}`, role: 'producer' });
    producer.on('error', () => undefined);
    ctx.onCleanup(async () => producer.disconnect());
    const started = Date.now();
    await expect(producer.set('k', 'v')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a worker connection resumes its commands when Redis comes back', async () => {
    const server = await startRedisServer();
    ctx.onCleanup(() => server.stop());
    const worker = createRedisConnection({ url: server.url, role: 'worker' });
    worker.on('error', () => undefined);
    ctx.onCleanup(async () => worker.disconnect());
    await worker.set('k', 'before');
    await server.kill();
    const pending = worker.get('k');
    const restarted = await startRedisServer({ port: server.port });
    ctx.onCleanup(() => restarted.stop());
    // No persistence: the key is gone, but the command queued during the outage completes.
    await expect(pending).resolves.toBeNull();
  });

  it('cleanup removes every key under the prefixes it handed out, and only those', async () => {
    const other = new RedisTestContext();
    const mine = ctx.prefix();
    const theirs = other.prefix();
    const redis = ctx.connection();
    await redis.mset(`${mine}:a`, '1', `${mine}:b`, '2', `${theirs}:c`, '3');
    await ctx.cleanup();
    const check = ctx.connection();
    expect(await check.exists(`${mine}:a`, `${mine}:b`)).toBe(0);
    expect(await check.get(`${theirs}:c`)).toBe('3');
    await other.cleanup();
    expect(await check.exists(`${theirs}:c`)).toBe(0);
  });
});
