import { atelierKeys, BatchLedger } from '@atelier/shared';
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

    expect(await ledger.settle('b1', dead(1))).toEqual({ changed: true, batchCompleted: true });
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
    expect(await ledger.markEnqueued('b2', 2)).toBe(true);
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

  it('enters open batches created before the open set existed, once', async () => {
    const { redis, keys, prefix, ledger } = setup(DAY_SEC);
    // 2,500 batches as an older Atelier left them: records and index, no open set.
    for (let i = 0; i < 2500; i++) {
      const state = i % 5 === 0 ? 'open' : 'completed';
      await redis.hset(keys.meta(`old${i}`), { total: '1', completed: '1', dead: '0', state });
      await redis.zadd(keys.index, String(i), `old${i}`);
    }
    expect(await ledger.openCount()).toBe(500);
    expect(await redis.exists(keys.openIndexed)).toBe(1);
    // Later processes trust the set: a batch that finished meanwhile is not entered again.
    await redis.hset(keys.meta('old1'), 'state', 'open');
    expect(await new BatchLedger(redis, prefix).openCount()).toBe(500);
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
