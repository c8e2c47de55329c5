import { RedisLease } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../../../test/support/redis-context.ts';
import { waitFor } from '../../../test/support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('RedisLease', () => {
  it('is held by one holder at a time, renewed and released only by it, and expires by itself', async () => {
    const redis = ctx.connection();
    const key = `${ctx.prefix('lease')}:lease`;
    const first = await RedisLease.acquire(redis, key, 200);
    expect(first).toBeDefined();
    expect(await RedisLease.acquire(redis, key, 200)).toBeUndefined();
    expect(await first?.renew()).toBe(true);
    expect(await redis.pttl(key)).toBeGreaterThan(100);

    await waitFor(async () => (await redis.exists(key)) === 0, { what: 'the lease to expire' });
    // Expired: someone else takes it; the first holder can neither renew nor release it.
    const second = await RedisLease.acquire(redis, key, 10_000);
    expect(second).toBeDefined();
    expect(await first?.renew()).toBe(false);
    await first?.release();
    expect(await redis.get(key)).toBe(second?.token);

    await second?.release();
    expect(await redis.exists(key)).toBe(0);
  });
});
