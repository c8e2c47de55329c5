import { atelierKeys } from '@atelier/shared';
import { listCmeTickets } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../../../test/support/redis-context.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('listCmeTickets', () => {
  it('lists every indexed (platform, userId) with a record, sorted, and never the ticket', async () => {
    const redis = ctx.connection();
    const prefix = ctx.prefix('tickets');
    const keys = atelierKeys(prefix).cme;
    const now = 1_000_000;
    // As the worker's ticket store leaves them: an active ticket, an invalidated one (the
    // login count survives), and an index entry whose record is gone.
    await redis.hset(keys.ticket('p2', 'u1'), {
      authorization: 'SECRET-TICKET',
      tfUid: 'tf-1',
      appId: 'app',
      obtainedAt: String(now - 5000),
      refreshes: '3',
    });
    await redis.hset(keys.ticket('p1', 'u9'), { refreshes: '1' });
    await redis.sadd(
      keys.ticketIndex,
      JSON.stringify(['p2', 'u1']),
      JSON.stringify(['p1', 'u9']),
      JSON.stringify(['p1', 'gone']),
    );

    const tickets = await listCmeTickets(redis, prefix, now);
    expect(tickets).toEqual([
      {
        platform: 'p1',
        userId: 'u9',
        active: false,
        obtainedAt: undefined,
        ageMs: undefined,
        refreshes: 1,
        tfUid: undefined,
      },
      {
        platform: 'p2',
        userId: 'u1',
        active: true,
        obtainedAt: now - 5000,
        ageMs: 5000,
        refreshes: 3,
        tfUid: 'tf-1',
      },
    ]);
    expect(JSON.stringify(tickets)).not.toContain('SECRET-TICKET');
    expect(await listCmeTickets(redis, ctx.prefix('empty'))).toEqual([]);
  });
});
