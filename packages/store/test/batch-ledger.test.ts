import { atelierKeys } from '@atelier/shared';
import { BatchLedger } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../../../test/support/redis-context.ts';
import { dead, done } from './support/store-fixtures.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const HOUR_SEC = 3600;

function setup(options?: ConstructorParameters<typeof BatchLedger>[2]) {
  const redis = ctx.connection();
  const prefix = ctx.prefix('ledger');
  return { redis, prefix, ledger: new BatchLedger(redis, prefix, options) };
}

describe('BatchLedger', () => {
  it('creates a batch once, open and indexed', async () => {
    const { ledger } = setup();
    expect(
      await ledger.create('b1', 3, { callbackUrl: 'https://hooks.example/b', createdAt: 7 }),
    ).toBe('created');
    expect(await ledger.create('b1', 5)).toBe('exists');
    expect(await ledger.get('b1')).toEqual({
      id: 'b1',
      total: 3,
      completed: 0,
      dead: 0,
      cancelled: 0,
      pending: 3,
      state: 'open',
      createdAt: 7,
      enqueued: 0,
      callbackUrl: 'https://hooks.example/b',
      tenant: 'default',
    });
    await ledger.create('b2', 1);
    expect(await ledger.list()).toEqual(['b2', 'b1']);
    expect(await ledger.list(1, 1)).toEqual(['b1']);
    expect(await ledger.openCount()).toBe(2);
    expect(await ledger.get('nope')).toBeUndefined();
  });

  it('counts each item once by its latest state, and keeps its result line', async () => {
    const { ledger } = setup();
    await ledger.create('b1', 3);
    await ledger.markEnqueued('b1', 3);
    const changed = { changed: true, batchCompleted: false, finished: false };
    expect(await ledger.settle('b1', done(0))).toEqual(changed);
    expect(await ledger.settle('b1', done(0))).toEqual({ ...changed, changed: false });
    expect(await ledger.settle('b1', dead(1))).toEqual(changed);
    expect(await ledger.get('b1')).toMatchObject({ completed: 1, dead: 1, pending: 1 });
    // A dead item that a replay completed moves from dead to completed.
    expect(await ledger.settle('b1', done(1))).toEqual(changed);
    expect(await ledger.get('b1')).toMatchObject({ completed: 2, dead: 0, pending: 1 });
    // A completed item never turns dead (a job that completed does not run again: a run that
    // says otherwise came too late).
    expect(await ledger.settle('b1', dead(0))).toEqual({ ...changed, changed: false });
    expect(await ledger.get('b1')).toMatchObject({ completed: 2, dead: 0, pending: 1 });
    expect(await ledger.results('b1', 0, 4)).toEqual([done(0), done(1), undefined, undefined]);
    expect(await ledger.results('b1', 1, 0)).toEqual([]);
    // A batch that does not exist counts nothing.
    expect(await ledger.settle('nope', done(0))).toEqual({ ...changed, changed: false });
  });

  it('finishes exactly once, however many settles race for the last item', async () => {
    const { ledger } = setup();
    await ledger.create('b1', 3);
    await ledger.markEnqueued('b1', 3);
    const settles = await Promise.all(
      [done(0), dead(1), done(2), done(2), dead(1), done(0)].map((r) => ledger.settle('b1', r)),
    );
    const completions = settles.filter((s) => s.batchCompleted);
    expect(completions).toHaveLength(1);
    const finishedAt = completions[0]?.finishedAt;
    expect(finishedAt).toEqual(expect.any(Number));
    expect(await ledger.get('b1')).toMatchObject({
      state: 'completed',
      completed: 2,
      dead: 1,
      pending: 0,
      completedAt: finishedAt,
    });
    expect(await ledger.openCount()).toBe(0);
    expect(await ledger.settle('b1', done(2))).toEqual({
      changed: false,
      batchCompleted: false,
      finished: true,
    });
  });

  it('does not finish before every item was counted in; the count that completes it does', async () => {
    const { ledger } = setup();
    await ledger.create('b1', 2);
    await ledger.markEnqueued('b1', 1);
    await ledger.settle('b1', done(0));
    expect((await ledger.settle('b1', done(1))).batchCompleted).toBe(false);
    expect((await ledger.get('b1'))?.state).toBe('open');
    const { finishedAt } = await ledger.markEnqueued('b1', 1);
    expect(finishedAt).toEqual(expect.any(Number));
    expect(await ledger.get('b1')).toMatchObject({ state: 'completed', completedAt: finishedAt });
    expect(await ledger.markEnqueued('nope', 1)).toEqual({});
  });

  it('closes a cut-off enqueue under its lease: sent items whose job exists count as queued, the rest are listed', async () => {
    const { ledger, redis, prefix } = setup();
    const jobKey = (i: number) => `${prefix}:drawing:dr_b~${i}`;
    const lease = `${prefix}:sys:batch:b:enqueuer`;
    await ledger.create('b', 10);
    await redis.set(lease, 'mine', 'PX', 10_000);
    // Items 0-5 sent; 0-1 counted; of the uncounted 2-5, jobs 2 and 4 landed, 3 settled already.
    expect(await ledger.sending('b', 'other', 6, 10_000)).toBe(false);
    expect(await ledger.sending('b', 'mine', 6, 10_000)).toBe(true);
    await ledger.markEnqueued('b', 2);
    await redis.hset(jobKey(2), 'data', '{}');
    await redis.hset(jobKey(4), 'data', '{}');
    await ledger.settle('b', done(3));
    expect(await ledger.uncounted('b')).toEqual({ from: 2, to: 6 });

    const window = { from: 2, jobKeys: [2, 3, 4, 5].map(jobKey) };
    expect(await ledger.cut('b', 'other', window)).toEqual({ status: 'lost' });
    expect(await ledger.cut('b', 'mine', { from: 3, jobKeys: window.jobKeys })).toEqual({
      status: 'moved',
    });
    expect(await ledger.cut('b', 'mine', window)).toEqual({ status: 'closed' });
    expect(await ledger.get('b')).toMatchObject({
      state: 'open',
      enqueued: 5,
      completed: 1,
      pending: 4,
      notQueued: [{ first: 5, last: 9 }],
    });
    // Closed: nothing is counted or sent any more, and it is not closed twice.
    expect(await ledger.markEnqueued('b', 3)).toEqual({ closed: true });
    expect(await ledger.sending('b', 'mine', 8, 10_000)).toBe(false);
    expect(await ledger.cut('b', 'mine', window)).toEqual({ status: 'none' });
    expect(await ledger.uncounted('b')).toBeUndefined();

    // Item 7 was listed but ran after all (an add that landed late): it leaves the list.
    await ledger.settle('b', done(7));
    expect(await ledger.get('b')).toMatchObject({
      enqueued: 6,
      completed: 2,
      pending: 4,
      notQueued: [
        { first: 5, last: 6 },
        { first: 8, last: 9 },
      ],
    });
    for (const i of [0, 1, 2]) await ledger.settle('b', done(i));
    const last = await ledger.settle('b', dead(4));
    expect(last).toMatchObject({ batchCompleted: true, finished: true });
    expect(await ledger.get('b')).toMatchObject({
      state: 'incomplete',
      completed: 5,
      dead: 1,
      pending: 0,
      completedAt: last.finishedAt,
    });
    expect(await ledger.openCount()).toBe(0);
  });

  it('a cut-off enqueue whose queued items all settled, or whose every item landed, ends at once', async () => {
    const { ledger, redis, prefix } = setup();
    const lease = (id: string) => `${prefix}:sys:batch:${id}:enqueuer`;
    await ledger.create('b', 3);
    await redis.set(lease('b'), 't', 'PX', 10_000);
    await ledger.markEnqueued('b', 1);
    await ledger.settle('b', done(0));
    expect(await ledger.cut('b', 't', { from: 1, jobKeys: [] })).toEqual({
      status: 'closed',
      finishedAt: expect.any(Number),
    });
    expect(await ledger.get('b')).toMatchObject({
      state: 'incomplete',
      notQueued: [{ first: 1, last: 2 }],
    });

    // Every item sent landed, only the count was lost: the batch is complete, not cut.
    await ledger.create('c', 2);
    await redis.set(lease('c'), 't', 'PX', 10_000);
    await ledger.sending('c', 't', 2, 10_000);
    await redis.hset(`${prefix}:drawing:dr_b~0`, 'data', '{}');
    await ledger.settle('c', done(1));
    const keys = [`${prefix}:drawing:dr_b~0`, `${prefix}:drawing:dr_b~1`];
    expect(await ledger.cut('c', 't', { from: 0, jobKeys: keys })).toEqual({ status: 'closed' });
    const c = await ledger.get('c');
    expect(c).toMatchObject({ state: 'open', enqueued: 2, pending: 1 });
    expect(c?.notQueued).toBeUndefined();
    // A keyed batch is resumed by its key, never closed.
    await ledger.create('k', 2, { keyed: true });
    await redis.set(lease('k'), 't', 'PX', 10_000);
    expect(await ledger.cut('k', 't', { from: 0, jobKeys: [] })).toEqual({ status: 'none' });
  });

  it('notes an announcement for one completion only; a reopened batch is announced anew', async () => {
    const { ledger } = setup();
    await ledger.create('b1', 1);
    await ledger.markEnqueued('b1', 1);
    const { finishedAt = -1 } = await ledger.settle('b1', dead(0));
    expect(await ledger.wasAnnounced('b1', finishedAt)).toBe(false);
    await ledger.markAnnounced('b1', finishedAt + 1);
    expect(await ledger.wasAnnounced('b1', finishedAt + 1)).toBe(false);
    await ledger.markAnnounced('b1', finishedAt);
    expect(await ledger.wasAnnounced('b1', finishedAt)).toBe(true);

    expect(await ledger.reopen('b1', 0)).toBe(true);
    expect(await ledger.get('b1')).toMatchObject({ state: 'open', dead: 0, pending: 1 });
    expect(await ledger.reopen('b1', 0)).toBe(false);
    const again = await ledger.settle('b1', done(0));
    expect(again.batchCompleted).toBe(true);
    expect(await ledger.wasAnnounced('b1', again.finishedAt ?? -1)).toBe(false);
  });

  it('a finished batch expires with its retention; a keyed one leaves a marker refusing its id', async () => {
    const { redis, prefix, ledger } = setup({
      finishedAgeSec: HOUR_SEC,
      keyReuseBlockedSec: 2 * HOUR_SEC,
    });
    const keys = atelierKeys(prefix).batch;
    await ledger.create('b1', 1, { keyed: true });
    await ledger.markEnqueued('b1', 1);
    expect(await redis.pttl(keys.meta('b1'))).toBe(-1);
    await ledger.settle('b1', done(0));
    for (const key of [keys.meta('b1'), keys.items('b1')]) {
      expect(await redis.pttl(key)).toBeGreaterThan((HOUR_SEC - 60) * 1000);
      expect(await redis.pttl(key)).toBeLessThanOrEqual(HOUR_SEC * 1000);
    }
    expect(await redis.pttl(keys.gone('b1'))).toBeGreaterThan((3 * HOUR_SEC - 60) * 1000);

    await redis.del(keys.meta('b1'), keys.items('b1')); // as retention would
    expect(await ledger.create('b1', 1, { keyed: true })).toBe('expired');
    expect(await ledger.get('b1')).toBeUndefined();
  });
});
