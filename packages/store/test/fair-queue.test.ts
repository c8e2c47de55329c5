import { atelierKeys } from '@atelier/shared';
import { FairQueue } from '@atelier/store';
import { QueueKeys } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../../../test/support/redis-context.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const LOW = 501;
const HIGH = 101;

function setup() {
  const redis = ctx.connection();
  const prefix = ctx.prefix('fair');
  const keys = new QueueKeys(prefix);
  const queue = { name: 'drawing', toKey: (type: string) => keys.toKey('drawing', type) };
  return { redis, prefix, queue, fair: new FairQueue(redis, prefix, queue) };
}

/** Routes work while the window is full (one slot, one job not started), so all of it waits. */
async function parked(
  { fair, redis, queue }: ReturnType<typeof setup>,
  route: (fair: FairQueue) => Promise<number>,
): Promise<void> {
  await fair.register('hold', 1, 60_000);
  await redis.zadd(queue.toKey('prioritized'), 0, 'hold-job');
  expect(await route(fair)).toBe(0);
  await redis.zrem(queue.toKey('prioritized'), 'hold-job');
  await fair.unregister('hold');
}

/** A batch's items `from` to `to - 1`. */
const range = (batchId: string, from: number, to: number) => ({
  kind: 'range' as const,
  batchId,
  idPrefix: `dr_${batchId}~`,
  from,
  to,
});

describe('FairQueue', () => {
  it('routes work straight to the queue while nothing waits and the window has room; the rest waits in its backlog', async () => {
    const { fair, redis, queue, prefix } = setup();
    await fair.register('w1', 4, 60_000);
    // Room for 4: the first 4 items go as usual, items 4..9 are parked.
    expect(await fair.route('acme', LOW, 10, range('b1', 0, 10))).toBe(4);
    const k = atelierKeys(prefix).fair('drawing');
    expect(await redis.lrange(k.backlog(LOW, 'acme'), 0, -1)).toEqual(['r|b1|dr_b1~|4|10']);
    // The batch's next chunk extends its entry (a batch stays one entry in the backlog).
    expect(await fair.route('acme', LOW, 5, range('b1', 10, 15))).toBe(0);
    expect(await redis.lrange(k.backlog(LOW, 'acme'), 0, -1)).toEqual(['r|b1|dr_b1~|4|15']);
    // Something waits at this priority: everything of another tenant waits its turn too.
    expect(await fair.route('beta', LOW, 1, { kind: 'job', id: 'dr_s1@beta' })).toBe(0);
    // A more urgent priority is not held back by less urgent work, while the window has room.
    expect(await fair.route('beta', HIGH, 1, { kind: 'job', id: 'dr_s2@beta' })).toBe(1);
    // Jobs admitted and not started fill the window: nothing more goes straight in.
    await redis.zadd(queue.toKey('prioritized'), 1, 'x1', 2, 'x2', 3, 'x3', 4, 'x4');
    expect(await fair.route('gamma', HIGH, 1, { kind: 'job', id: 'dr_s3@gamma' })).toBe(0);
    expect(await redis.zrange(k.active, '0', '-1', 'WITHSCORES')).toEqual([
      `${HIGH}|gamma`,
      String(HIGH),
      `${LOW}|acme`,
      String(LOW),
      `${LOW}|beta`,
      String(LOW),
    ]);
  });

  it('admits in weighted start-time fair order within a priority, the most urgent priority first', async () => {
    const s = setup();
    const { fair, redis, queue } = s;
    await parked(s, (f) => f.route('acme', LOW, 6, range('b1@acme', 0, 6)));
    for (const n of [1, 2, 3]) {
      await parked(s, (f) => f.route('beta', LOW, 1, { kind: 'job', id: `dr_s${n}@beta` }));
    }
    await parked(s, (f) => f.route('gamma', HIGH, 1, { kind: 'job', id: 'dr_urgent@gamma' }));
    // The window full: nothing is taken.
    await fair.register('w1', 1, 60_000);
    await redis.zadd(queue.toKey('prioritized'), 1, 'busy-1');
    expect(await fair.pick({}, 10)).toEqual({ ids: [], backlogs: 3 });

    await redis.del(queue.toKey('prioritized'));
    await fair.register('w1', 100, 60_000);
    // beta weighs 2: served twice as often as acme while both wait.
    const { ids, backlogs } = await fair.pick({ beta: 2 }, 100);
    expect(ids).toEqual([
      'dr_urgent@gamma',
      'dr_b1@acme~0',
      'dr_s1@beta',
      'dr_s2@beta',
      'dr_b1@acme~1',
      'dr_s3@beta',
      'dr_b1@acme~2',
      'dr_b1@acme~3',
      'dr_b1@acme~4',
      'dr_b1@acme~5',
    ]);
    expect(backlogs).toBe(0);
    expect(await fair.hasBacklog()).toBe(false);
    // Taken ids are admitting until promoted.
    expect(await fair.stale(Date.now() + 1)).toHaveLength(10);
    await fair.done(ids);
    expect(await fair.stale(Date.now() + 1)).toEqual([]);
  });

  it('takes no more than the room: admitted work not started and ids taken count', async () => {
    const s = setup();
    const { fair, redis, queue } = s;
    await parked(s, (f) => f.route('acme', LOW, 20, range('b1', 0, 20)));
    await fair.register('w1', 2, 60_000);
    await fair.register('w2', 3, 60_000); // window 5 (both processes)
    await redis.zadd(queue.toKey('prioritized'), 1, 'busy-1');
    await redis.rpush(queue.toKey('wait'), 'busy-2');
    const first = await fair.pick({}, 100);
    expect(first.ids).toEqual(['dr_b1~0', 'dr_b1~1', 'dr_b1~2']);
    // Those 3 are admitting (not promoted): no room left.
    expect((await fair.pick({}, 100)).ids).toEqual([]);
    await fair.done(first.ids);
    expect((await fair.pick({}, 2)).ids).toEqual(['dr_b1~3', 'dr_b1~4']);
    // An expired registration leaves the window.
    await fair.register('w2', 3, -1);
    await fair.done(['dr_b1~3', 'dr_b1~4']);
    await redis.del(queue.toKey('wait'));
    expect((await fair.pick({}, 100)).ids).toEqual(['dr_b1~5']);
  });

  it("passes over a paused batch's items: its tenant's other work and other tenants go on", async () => {
    const s = setup();
    const { fair, redis, prefix } = s;
    await parked(s, (f) => f.route('acme', LOW, 3, range('b-paused', 0, 3)));
    await parked(s, (f) => f.route('acme', LOW, 1, { kind: 'job', id: 'dr_single@acme' }));
    await parked(s, (f) => f.route('beta', LOW, 2, range('b-beta', 0, 2)));
    await fair.register('w1', 100, 60_000);
    await redis.sadd(atelierKeys(prefix).batch.paused, 'b-paused');
    const { ids, backlogs } = await fair.pick({}, 100);
    expect(ids).toEqual(['dr_single@acme', 'dr_b-beta~0', 'dr_b-beta~1']);
    // The paused batch waits, listed.
    expect(backlogs).toBe(1);
    expect((await fair.pick({}, 100)).ids).toEqual([]);
    await redis.srem(atelierKeys(prefix).batch.paused, 'b-paused');
    expect((await fair.pick({}, 100)).ids).toEqual([
      'dr_b-paused~0',
      'dr_b-paused~1',
      'dr_b-paused~2',
    ]);
  });

  it('tells where a taken id stands, keeps ids whose add is in flight aside, and covers what it lists', async () => {
    const s = setup();
    const { fair, redis, queue } = s;
    await redis.zadd(queue.toKey('delayed'), 1, 'dr_parked');
    await redis.hset(queue.toKey('dr_parked'), 'data', '{}');
    await redis.hset(queue.toKey('dr_running'), 'data', '{}');
    expect(await fair.state('dr_parked')).toBe('parked');
    expect(await fair.state('dr_running')).toBe('settled');
    expect(await fair.state('dr_never')).toBe('missing');

    await parked(s, (f) => f.route('acme', LOW, 5, range('b1', 0, 5)));
    await parked(s, (f) => f.route('acme', LOW, 1, { kind: 'job', id: 'dr_one@acme' }));
    await fair.register('w1', 100, 60_000);
    const { ids } = await fair.pick({}, 2);
    expect(ids).toEqual(['dr_b1~0', 'dr_b1~1']);
    await fair.awaitAdd(['dr_b1~1'], 1234);
    expect(await fair.awaiting()).toEqual([['dr_b1~1', 1234]]);
    expect(await fair.stale(Date.now() + 1)).toEqual(['dr_b1~0']);

    const covered = await fair.coverage();
    for (const id of ['dr_b1~0', 'dr_b1~1', 'dr_b1~2', 'dr_b1~4', 'dr_one@acme']) {
      expect(covered(id), id).toBe(true);
    }
    for (const id of ['dr_b1~5', 'dr_b2~2', 'dr_two@acme']) expect(covered(id), id).toBe(false);
  });
});
