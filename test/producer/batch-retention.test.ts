import { atelierKeys, DEFAULT_RETENTION } from '@atelier/shared';
import { BatchLedger, ledgerRetention } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';
import { DRAWING, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const DAY_SEC = 24 * 3600;
const done = (index: number) => ({
  index,
  jobId: `dr_b~${index}`,
  state: 'completed' as const,
  images: [`${index}.png`],
  taskId: `t${index}`,
});
const dead = (index: number) => ({
  index,
  jobId: `dr_b~${index}`,
  state: 'dead' as const,
  code: '202',
  message: 'blocked',
});

function setup(finishedAgeSec?: number) {
  const redis = ctx.connection();
  const prefix = ctx.prefix('batchttl');
  const keys = atelierKeys(prefix).batch;
  const ledger = new BatchLedger(
    redis,
    prefix,
    finishedAgeSec === undefined ? {} : { finishedAgeSec },
  );
  const ttls = async (id: string) => [
    await redis.pttl(keys.meta(id)),
    await redis.pttl(keys.items(id)),
  ];
  return { redis, prefix, keys, ledger, ttls };
}

describe('batch retention (ATELIER_KEEP_BATCH_AGE_SEC)', () => {
  it('a batch is kept while open, expires its age after it finishes, and is kept again when a replay reopens it', async () => {
    const { ledger, ttls } = setup(DAY_SEC);
    await ledger.create('b1', 2);
    await ledger.markEnqueued('b1', 2);
    await ledger.settle('b1', done(0));
    expect(await ttls('b1')).toEqual([-1, -1]);

    expect(await ledger.settle('b1', dead(1))).toEqual({
      changed: true,
      batchCompleted: true,
      finished: true,
      finishedAt: expect.any(Number),
    });
    // Settled again (a job that ran twice): no change, but it says the batch is finished.
    expect(await ledger.settle('b1', dead(1))).toEqual({
      changed: false,
      batchCompleted: false,
      finished: true,
    });
    for (const ttl of await ttls('b1')) {
      expect(ttl).toBeGreaterThan((DAY_SEC - 60) * 1000);
      expect(ttl).toBeLessThanOrEqual(DAY_SEC * 1000);
    }

    expect(await ledger.reopen('b1', 1)).toBe(true);
    expect(await ttls('b1')).toEqual([-1, -1]);
    expect((await ledger.get('b1'))?.state).toBe('open');

    await ledger.settle('b1', done(1));
    expect((await ledger.get('b1'))?.state).toBe('completed');
    for (const ttl of await ttls('b1')) expect(ttl).toBeGreaterThan(0);
  });

  it('also expires a batch whose items all settled before the enqueuer counted them', async () => {
    const { ledger, ttls } = setup(DAY_SEC);
    await ledger.create('b2', 2);
    await ledger.settle('b2', done(0));
    await ledger.settle('b2', done(1));
    expect(await ttls('b2')).toEqual([-1, -1]);
    expect(await ledger.markEnqueued('b2', 2)).toEqual({ finishedAt: expect.any(Number) });
    for (const ttl of await ttls('b2')) expect(ttl).toBeGreaterThan(0);
  });

  it('keeps finished batches when no age is given (the library default of a bare ledger)', async () => {
    const { ledger, ttls } = setup();
    await ledger.create('b3', 1);
    await ledger.markEnqueued('b3', 1);
    await ledger.settle('b3', done(0));
    expect((await ledger.get('b3'))?.state).toBe('completed');
    expect(await ttls('b3')).toEqual([-1, -1]);
  });

  it('prunes index entries of expired batches only, page by page', async () => {
    const { redis, keys, ledger } = setup(DAY_SEC);
    const old = Date.now() - 10 * DAY_SEC * 1000;
    // 1,100 old batches whose records expired, interleaved with 100 old ones still open.
    for (let i = 0; i < 1200; i++) await ledger.create(`old${i}`, 1, { createdAt: old + i });
    for (let i = 0; i < 1200; i++) if (i % 12 !== 0) await redis.del(keys.meta(`old${i}`));
    // A recent batch whose record is gone (cannot have expired: it is not past the cutoff).
    await ledger.create('recent', 1);
    await redis.del(keys.meta('recent'));

    expect(await ledger.pruneIndex(Date.now() - DAY_SEC * 1000, 500)).toBe(1100);
    const left = await redis.zrange(keys.index, '0', '-1');
    expect(left).toHaveLength(101);
    expect(left).toContain('recent');
    expect(left.filter((id) => id.startsWith('old')).sort()).toEqual(
      Array.from({ length: 100 }, (_, i) => `old${i * 12}`).sort(),
    );
    expect(await ledger.pruneIndex(Date.now() - DAY_SEC * 1000, 500)).toBe(0);
  });

  it('counts open batches exactly: created, finished (by settle or by the enqueuer), reopened', async () => {
    const { ledger } = setup(DAY_SEC);
    expect(await ledger.openCount()).toBe(0);
    await ledger.create('a', 1);
    await ledger.create('b', 1);
    await ledger.create('c', 1);
    expect(await ledger.openCount()).toBe(3);
    await ledger.markEnqueued('a', 1);
    await ledger.settle('a', dead(0));
    await ledger.settle('b', done(0));
    expect(await ledger.openCount()).toBe(2);
    await ledger.markEnqueued('b', 1);
    expect(await ledger.openCount()).toBe(1);
    await ledger.reopen('a', 0);
    expect(await ledger.openCount()).toBe(2);
    await ledger.reopen('a', 0); // not dead any more: no change
    expect(await ledger.openCount()).toBe(2);
  });

  it('upkeep enters batches from before the open set once, gives finished ones their TTL, and repairs the set', async () => {
    const { redis, keys, ledger } = setup(DAY_SEC);
    const now = Date.now();
    // 2,500 batches as an older Atelier left them: records and index, no open set, no TTLs.
    for (let i = 0; i < 2500; i++) {
      const state = i % 5 === 0 ? 'open' : 'completed';
      const completedAt = String(i === 1 ? now - 2 * DAY_SEC * 1000 : now - 1000);
      await redis.hset(keys.meta(`old${i}`), { total: '1', completed: '1', dead: '0', state });
      if (state === 'completed') await redis.hset(keys.meta(`old${i}`), 'completedAt', completedAt);
      await redis.hset(keys.items(`old${i}`), '0', 'c|{}');
      await redis.zadd(keys.index, String(i), `old${i}`);
    }
    expect(await ledger.openCount()).toBe(0);
    expect(await ledger.upkeep(0)).toEqual({ pruned: 0, repaired: 0 });
    expect(await ledger.openCount()).toBe(500);
    expect(await redis.exists(keys.upgraded)).toBe(1);
    // Finished: the TTL they would have had (old1 finished two days ago, past its day: gone).
    expect(await redis.exists(keys.meta('old1'), keys.items('old1'))).toBe(0);
    const ttl = await redis.pttl(keys.meta('old2'));
    expect(ttl).toBeGreaterThan((DAY_SEC - 60) * 1000);
    expect(await redis.pttl(keys.items('old2'))).toBeGreaterThan(0);
    // Nothing says whether a key named them: their ids are refused as long as a keyed one's.
    expect(await redis.pttl(keys.gone('old2'))).toBeGreaterThan(0);
    expect(await redis.pttl(keys.meta('old0'))).toBe(-1); // open: kept

    // An older worker finished a batch without leaving the set; an older API created one
    // without entering it. Upkeep drops the first; the one-time indexing does not run again.
    await redis.hset(keys.meta('old5'), 'state', 'completed');
    await redis.hset(keys.meta('new'), { total: '1', completed: '0', dead: '0', state: 'open' });
    await redis.zadd(keys.index, String(now), 'new');
    expect(await ledger.upkeep(0)).toEqual({ pruned: 0, repaired: 1 });
    expect(await ledger.openCount()).toBe(499);
  });

  it('upkeep runs in one process at a time', async () => {
    const { redis, keys, ledger } = setup(DAY_SEC);
    await redis.set(keys.upkeepLease, 'another-worker', 'PX', 60_000);
    expect(await ledger.upkeep(Date.now())).toBeUndefined();
    expect(await redis.exists(keys.upgraded)).toBe(0);
  });

  it('refuses to start again a keyed batch that finished and expired (its item ids may still be in use)', async () => {
    const { redis, keys, prefix, ledger } = setup(DAY_SEC);
    const blocking = new BatchLedger(redis, prefix, {
      finishedAgeSec: DAY_SEC,
      keyReuseBlockedSec: 90 * DAY_SEC,
    });
    for (const [id, keyed] of [
      ['b_nightly', true],
      ['b_random', false],
    ] as const) {
      expect(await blocking.create(id, 1, { keyed })).toBe('created');
      await blocking.markEnqueued(id, 1);
      await blocking.settle(id, { ...done(0), jobId: `dr_${id}~0` });
      expect(await blocking.create(id, 1, { keyed })).toBe('exists');
      // Retention removes the record and its lines.
      await redis.del(keys.meta(id), keys.items(id));
    }
    expect(await redis.pttl(keys.gone('b_nightly'))).toBeGreaterThan(90 * DAY_SEC * 1000);
    expect(await blocking.create('b_nightly', 1, { keyed: true })).toBe('expired');
    expect(await redis.exists(keys.meta('b_nightly'))).toBe(0);
    // A batch without a key never asks for its id again: nothing is left behind for it.
    expect(await redis.exists(keys.gone('b_random'))).toBe(0);
    expect(await ledger.create('b_random', 1)).toBe('created');
  });

  it('over HTTP: the key of an expired batch is refused with IDEMPOTENCY_CONFLICT and nothing is queued', async () => {
    const api = await startApi(ctx);
    const payload = { items: [DRAWING], idempotencyKey: 'nightly-2024-06-01' };
    const first = await api.call({ method: 'POST', url: '/v1/batches', payload });
    expect(first.statusCode).toBe(202);
    const { id } = first.json();
    // A worker (with the deployment's retention) finishes it; retention later removes it.
    const worker = new BatchLedger(
      ctx.connection(),
      api.prefix,
      ledgerRetention(DEFAULT_RETENTION),
    );
    await worker.settle(id, { ...done(0), jobId: `dr_${id}~0` });
    const keys = atelierKeys(api.prefix).batch;
    await ctx.connection().del(keys.meta(id), keys.items(id));

    const again = await api.call({ method: 'POST', url: '/v1/batches', payload });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', details: { id } });
    expect(again.json().error.message).toMatch(/removed by retention/);
    expect(await api.drawingQueue.count()).toBe(1);
    expect((await api.call({ method: 'GET', url: `/v1/batches/${id}` })).statusCode).toBe(404);
  });

  it('end to end: a batch finished by the worker expires after ATELIER_KEEP_BATCH_AGE_SEC and leaves the index', {
    timeout: 30_000,
  }, async () => {
    const env = { ATELIER_KEEP_BATCH_AGE_SEC: '1', ATELIER_RECONCILE_INTERVAL_MS: '200' };
    const stack = await DrawingStack.start(ctx, {
      simulator: { faults: { blockedWords: ['禁止词'] } },
      env,
    });
    const api = await startApi(ctx, { prefix: stack.prefix, env });
    await stack.startWorker();
    const created = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: { items: [DRAWING, { ...DRAWING, text: '禁止词' }] },
    });
    expect(created.statusCode).toBe(202);
    const { id } = created.json();
    const ledger = new BatchLedger(ctx.connection(), stack.prefix);

    const finished = await waitFor(
      async () => {
        const info = (await api.call({ method: 'GET', url: `/v1/batches/${id}` })).json();
        return info.state === 'completed' ? info : undefined;
      },
      { what: 'the batch to finish', timeoutMs: 20_000 },
    );
    expect(finished).toMatchObject({ total: 2, completed: 1, dead: 1, pending: 0 });
    expect(await ledger.list()).toContain(id);

    await waitFor(
      async () => (await api.call({ method: 'GET', url: `/v1/batches/${id}` })).statusCode === 404,
      { what: 'the finished batch to expire', timeoutMs: 5_000 },
    );
    const gone = await api.call({ method: 'GET', url: `/v1/batches/${id}/results` });
    expect(gone.statusCode).toBe(404);
    await waitFor(async () => !(await ledger.list()).includes(id), {
      what: 'the worker to drop it from the index',
      timeoutMs: 5_000,
    });
  });
});
