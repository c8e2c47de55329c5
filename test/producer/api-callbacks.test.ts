import { type CallbackJobData, type HostResolver, QUEUE_NAMES } from '@atelier/shared';
import { announceBatchCompleted, BatchLedger, CallbackScheduler } from '@atelier/store';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { DRAWING, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const SECRET = { ATELIER_CALLBACK_SECRET: 'callback-signing-secret' };

/** internal.example resolves to a private address, everything else to a public one. */
const resolver: HostResolver = async (host) => {
  if (host === 'internal.example') return [{ address: '10.1.2.3', family: 4 }];
  if (host === 'mixed.example') {
    return [
      { address: '93.184.216.34', family: 4 },
      { address: 'fd00::1', family: 6 },
    ];
  }
  if (host === 'nowhere.example')
    throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return [{ address: '93.184.216.34', family: 4 }];
};

describe('callback URLs', () => {
  it('refuses any callbackUrl with CALLBACKS_DISABLED when no ATELIER_CALLBACK_SECRET is set', async () => {
    const api = await startApi(ctx, { resolve: resolver });
    const res = await api.call({
      method: 'POST',
      url: '/v1/drawings',
      payload: { ...DRAWING, callbackUrl: 'https://hooks.example.com/atelier' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('CALLBACKS_DISABLED');
    expect(await api.drawingQueue.count()).toBe(0);
  });

  it.each([
    'http://127.0.0.1:8080/cb',
    'http://localhost.:1/cb',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]/cb',
    'http://[fd00:ec2::254]/',
    'http://[::ffff:10.0.0.1]/',
    'http://192.168.1.20/cb',
    'http://2130706433/cb',
    'http://internal.example/cb',
    'http://mixed.example/cb',
    'http://nowhere.example/cb',
  ])('refuses %s with CALLBACK_URL_REFUSED', async (callbackUrl) => {
    const api = await startApi(ctx, {
      env: SECRET,
      resolve: async (host) =>
        host === 'localhost.' ? [{ address: '127.0.0.1', family: 4 }] : resolver(host),
    });
    const res = await api.call({
      method: 'POST',
      url: '/v1/drawings',
      payload: { ...DRAWING, callbackUrl },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('CALLBACK_URL_REFUSED');
    expect(await api.drawingQueue.count()).toBe(0);
  });

  it('accepts a public URL and stores it in the job meta', async () => {
    const api = await startApi(ctx, { env: SECRET, resolve: resolver });
    const callbackUrl = 'https://hooks.example.com/atelier?tenant=7';
    const res = await api.call({
      method: 'POST',
      url: '/v1/drawings',
      payload: { ...DRAWING, callbackUrl },
    });
    expect(res.statusCode).toBe(202);
    const job = await api.drawingQueue.getJob(res.json().id);
    expect(job?.data.meta.callbackUrl).toBe(callbackUrl);
  });

  it('accepts private addresses when ATELIER_CALLBACK_ALLOW_PRIVATE=true', async () => {
    const api = await startApi(ctx, {
      env: { ...SECRET, ATELIER_CALLBACK_ALLOW_PRIVATE: 'true' },
      resolve: resolver,
    });
    for (const callbackUrl of ['http://127.0.0.1:8080/cb', 'http://internal.example/cb']) {
      const res = await api.call({
        method: 'POST',
        url: '/v1/drawings',
        payload: { ...DRAWING, callbackUrl },
      });
      expect(res.statusCode, callbackUrl).toBe(202);
    }
  });

  it('checks batch and item callback URLs before anything is queued', async () => {
    const api = await startApi(ctx, { env: SECRET, resolve: resolver });
    const items = [DRAWING, { ...DRAWING, callbackUrl: 'http://10.0.0.8/cb' }];
    const res = await api.call({ method: 'POST', url: '/v1/batches', payload: { items } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'CALLBACK_URL_REFUSED',
      details: { field: 'items.1.callbackUrl' },
    });
    const batchLevel = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: { items: [DRAWING], callbackUrl: 'http://[::1]/done' },
    });
    expect(batchLevel.json().error.code).toBe('CALLBACK_URL_REFUSED');
    expect(await api.drawingQueue.count()).toBe(0);
  });

  it('a batch that finishes when its last chunk is counted (every item already settled) calls back from the API', async () => {
    const api = await startApi(ctx, { env: SECRET, resolve: resolver });
    const callbackUrl = 'https://hooks.example.com/batch';
    const key = 'resumed-nightly';
    const id = `b_${key}`;
    const ledger = new BatchLedger(ctx.connection(), api.prefix);
    // A first submission queued the item and died before counting it; a worker finished the item.
    await ledger.create(id, 1, { callbackUrl });
    await ledger.settle(id, {
      index: 0,
      jobId: `dr_${id}~0`,
      state: 'completed',
      images: ['a.png'],
      taskId: 't0',
    });
    expect((await ledger.get(id))?.state).toBe('open');

    const again = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: { items: [DRAWING], callbackUrl, idempotencyKey: key },
    });
    expect(again.statusCode).toBe(202);
    const info = await ledger.get(id);
    expect(info).toMatchObject({ state: 'completed', completed: 1, dead: 0, pending: 0 });

    const callbacks = new Queue<CallbackJobData>(QUEUE_NAMES.callbacks, {
      connection: ctx.connection(),
      prefix: api.prefix,
    });
    ctx.onCleanup(() => callbacks.close());
    const deliveryId = `${id}.batch.${info?.completedAt}`;
    expect(
      (await callbacks.getJobs(['waiting', 'prioritized', 'delayed'])).map((j) => j.id),
    ).toEqual([deliveryId]);
    expect((await callbacks.getJob(deliveryId))?.data).toEqual({
      url: callbackUrl,
      event: 'batch.completed',
      body: {
        event: 'batch.completed',
        id,
        tenant: 'default',
        total: 1,
        completed: 1,
        dead: 0,
        cancelled: 0,
        pending: 0,
        state: 'completed',
        deliveryId,
      },
    });
  });

  it('announces a finished batch again when its key is submitted again (the announcement was lost), never twice', async () => {
    const api = await startApi(ctx, { env: SECRET, resolve: resolver });
    const callbackUrl = 'https://hooks.example.com/batch';
    const id = 'b_lost-announcement';
    const ledger = new BatchLedger(ctx.connection(), api.prefix);
    // Finished by a process that died before it could queue the callback.
    await ledger.create(id, 1, { callbackUrl, keyed: true });
    await ledger.settle(id, { index: 0, jobId: `dr_${id}~0`, state: 'dead', code: '202' });
    const { finishedAt } = await ledger.markEnqueued(id, 1);
    expect(finishedAt).toBeDefined();

    const callbacks = new Queue<CallbackJobData>(QUEUE_NAMES.callbacks, {
      connection: ctx.connection(),
      prefix: api.prefix,
    });
    ctx.onCleanup(() => callbacks.close());
    const payload = { items: [DRAWING], callbackUrl, idempotencyKey: 'lost-announcement' };
    for (let i = 0; i < 2; i++) {
      const again = await api.call({ method: 'POST', url: '/v1/batches', payload });
      expect(again.statusCode).toBe(202);
      expect(again.json()).toEqual({ id, total: 1 });
    }
    const queued = await callbacks.getJobs(['waiting', 'prioritized', 'delayed']);
    expect(queued.map((j) => j.id)).toEqual([`${id}.batch.${finishedAt}`]);
    expect(queued[0]?.data.body).toMatchObject({ id, state: 'completed', dead: 1, pending: 0 });
    expect(await ledger.wasAnnounced(id, finishedAt as number)).toBe(true);

    // Delivered and removed by retention: submitting the key again does not call back again.
    await queued[0]?.remove();
    const late = await api.call({ method: 'POST', url: '/v1/batches', payload });
    expect(late.statusCode).toBe(202);
    expect(await callbacks.count()).toBe(0);
  });

  it('a repeated settle or submission does not announce a batch a replay reopened meanwhile', async () => {
    const api = await startApi(ctx, { env: SECRET, resolve: resolver });
    const ledger = new BatchLedger(ctx.connection(), api.prefix);
    const callbacks = new Queue<CallbackJobData>(QUEUE_NAMES.callbacks, {
      connection: ctx.connection(),
      prefix: api.prefix,
    });
    ctx.onCleanup(() => callbacks.close());
    const scheduler = new CallbackScheduler({ queue: callbacks, logger: api.logs.logger });
    const deps = { callbacks: scheduler, ledger, logger: api.logs.logger };
    const id = 'b_reopened';
    await ledger.create(id, 1, { callbackUrl: 'https://hooks.example.com/b' });
    await ledger.markEnqueued(id, 1);
    await ledger.settle(id, { index: 0, jobId: `dr_${id}~0`, state: 'dead', code: '202' });
    await ledger.reopen(id, 0);
    expect((await ledger.get(id))?.state).toBe('open');
    await announceBatchCompleted(id, deps);
    expect(await callbacks.count()).toBe(0);
  });
});
