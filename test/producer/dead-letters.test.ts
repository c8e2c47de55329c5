import {
  atelierKeys,
  type CmeJobData,
  type DeadLetter,
  type DrawingJobData,
  QUEUE_NAMES,
} from '@atelier/shared';
import { BatchLedger, DeadLetterStore } from '@atelier/store';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';
import { type ApiHarness, DRAWING, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const T0 = Date.parse('2024-05-01T00:00:00Z');

function entry(id: string, fields: Partial<DeadLetter> = {}): DeadLetter {
  return {
    id,
    queue: 'drawing',
    kind: 'drawing',
    code: 'POLL_TIMEOUT',
    message: 'gave up polling',
    attempts: 1,
    history: [{ attempt: 1, at: T0, code: 'POLL_TIMEOUT', message: 'gave up polling' }],
    request: { ...DRAWING, num: 1 },
    meta: { enqueuedAt: T0 },
    failedAt: T0,
    ...fields,
  };
}

function store(api: ApiHarness) {
  return new DeadLetterStore(ctx.connection(), api.prefix);
}

/** Runs the job through a worker that dead-letters it the way Atelier's does, taskId saved. */
async function failWithTaskId(api: ApiHarness, id: string): Promise<void> {
  const deadLetters = store(api);
  const worker = new Worker<DrawingJobData>(
    QUEUE_NAMES.drawing,
    async (job: Job<DrawingJobData>) => {
      const data: DrawingJobData = {
        ...job.data,
        state: { taskId: 'task-77', polls: 12, submittedAt: T0 },
        history: [{ attempt: 1, at: T0, code: 'POLL_TIMEOUT', message: 'gave up polling' }],
      };
      await job.updateData(data);
      await deadLetters.insert(entry(id, { taskId: 'task-77', meta: job.data.meta }));
      throw new UnrecoverableError('[POLL_TIMEOUT] gave up polling');
    },
    { connection: ctx.connection(), prefix: api.prefix },
  );
  await waitFor(async () => (await api.drawingQueue.getJobState(id)) === 'failed', {
    what: 'job failed',
  });
  await worker.close();
}

/** A two-item batch whose item 0 died (dead letter filed, job failed, item settled dead). */
async function deadBatchItem(api: ApiHarness) {
  const batch = (
    await api.call({ method: 'POST', url: '/v1/batches', payload: { items: [DRAWING, DRAWING] } })
  ).json() as { id: string };
  const id = `dr_${batch.id}~0`;
  await failWithTaskId(api, id);
  const ledger = new BatchLedger(ctx.connection(), api.prefix);
  await ledger.settle(batch.id, {
    index: 0,
    jobId: id,
    state: 'dead',
    code: 'POLL_TIMEOUT',
    message: 'gave up polling',
  });
  return { batch, id, ledger };
}

describe('GET /v1/dead-letters', () => {
  it('lists newest first and filters by queue, code, batch and time, with paging', async () => {
    const api = await startApi(ctx);
    const dl = store(api);
    await dl.insert(entry('dr_a', { failedAt: T0 + 1000 }));
    await dl.insert(entry('dr_b', { code: '202', failedAt: T0 + 2000 }));
    await dl.insert(
      entry('cm_c', {
        queue: 'cme',
        kind: 'cme',
        code: 'InvalidParameterValue.MaterialId',
        failedAt: T0 + 3000,
      }),
    );
    await dl.insert(
      entry('dr_b_x~0', {
        failedAt: T0 + 4000,
        meta: { enqueuedAt: T0, batchId: 'b_x', batchIndex: 0 },
      }),
    );

    const list = async (query: string) => {
      const res = await api.call({ method: 'GET', url: `/v1/dead-letters${query}` });
      expect(res.statusCode, query).toBe(200);
      const body = res.json();
      return { total: body.total, ids: body.items.map((e: DeadLetter) => e.id) };
    };
    expect(await list('')).toEqual({ total: 4, ids: ['dr_b_x~0', 'cm_c', 'dr_b', 'dr_a'] });
    expect(await list('?queue=cme')).toEqual({ total: 1, ids: ['cm_c'] });
    expect(await list('?code=POLL_TIMEOUT')).toEqual({ total: 2, ids: ['dr_b_x~0', 'dr_a'] });
    expect(await list('?queue=drawing&code=202')).toEqual({ total: 1, ids: ['dr_b'] });
    expect(await list('?batchId=b_x')).toEqual({ total: 1, ids: ['dr_b_x~0'] });
    // Intersections read the smallest named index and check the others, whichever it is.
    expect(await list('?queue=cme&code=POLL_TIMEOUT')).toEqual({ total: 0, ids: [] });
    expect(await list('?queue=cme&code=InvalidParameterValue.MaterialId')).toEqual({
      total: 1,
      ids: ['cm_c'],
    });
    expect(await list('?batchId=b_x&code=202')).toEqual({ total: 0, ids: [] });
    expect(await list('?batchId=b_x&code=POLL_TIMEOUT&queue=drawing')).toEqual({
      total: 1,
      ids: ['dr_b_x~0'],
    });
    const since = new Date(T0 + 2000).toISOString();
    expect(await list(`?since=${since}&until=${T0 + 3000}`)).toEqual({
      total: 2,
      ids: ['cm_c', 'dr_b'],
    });
    expect(await list('?offset=1&limit=2')).toEqual({ total: 4, ids: ['cm_c', 'dr_b'] });
    // A page of one index (read with LIMIT) and a page of an intersection (read, then checked).
    expect(await list('?code=POLL_TIMEOUT&offset=1&limit=1')).toEqual({ total: 2, ids: ['dr_a'] });
    expect(await list('?queue=drawing&code=POLL_TIMEOUT&offset=1&limit=5')).toEqual({
      total: 2,
      ids: ['dr_a'],
    });
    expect(await list(`?until=${T0 + 3000}&offset=5`)).toMatchObject({ ids: [] });
  });

  it('refuses bad filters with VALIDATION_FAILED naming query.<field>', async () => {
    const api = await startApi(ctx);
    for (const [query, field] of [
      ['?limit=0', 'query.limit'],
      ['?limit=abc', 'query.limit'],
      ['?queue=callbacks', 'query.queue'],
      ['?since=yesterday-ish', 'query.since'],
      ['?colour=red', 'query.colour'],
    ]) {
      const res = await api.call({ method: 'GET', url: `/v1/dead-letters${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
  });

  it('reads one entry, or answers NOT_FOUND', async () => {
    const api = await startApi(ctx);
    await store(api).insert(entry('dr_one'));
    expect(
      (await api.call({ method: 'GET', url: '/v1/dead-letters/dr_one' })).json(),
    ).toMatchObject({ id: 'dr_one', code: 'POLL_TIMEOUT' });
    expect((await api.call({ method: 'GET', url: '/v1/dead-letters/dr_two' })).statusCode).toBe(
      404,
    );
  });
});

describe('replay', () => {
  it('retries the failed job: one more replay, attempts reset, history kept, polling resumes (no new submit)', async () => {
    const api = await startApi(ctx);
    const { id } = (
      await api.call({ method: 'POST', url: '/v1/drawings', payload: DRAWING })
    ).json();
    await failWithTaskId(api, id);
    expect((await api.call({ method: 'GET', url: `/v1/jobs/${id}` })).json().state).toBe('dead');

    const before = Date.now();
    const res = await api.call({ method: 'POST', url: `/v1/dead-letters/${id}/replay` });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ id });
    expect(await store(api).has(id)).toBe(false);

    const job = (await api.drawingQueue.getJob(id)) as Job<DrawingJobData>;
    expect(['waiting', 'prioritized']).toContain(await job.getState());
    expect(job.attemptsMade).toBe(0);
    expect(job.data.meta.replays).toBe(1);
    expect(job.data.state).toMatchObject({ taskId: 'task-77', polls: 12, submittedAt: T0 });
    expect(job.data.state?.resumedAt).toBeGreaterThanOrEqual(before);
    expect(job.data.history).toHaveLength(1);
    expect((await api.call({ method: 'GET', url: `/v1/jobs/${id}` })).json()).toMatchObject({
      state: 'polling',
      attempts: 0,
    });
  });

  it('adds the job again from the entry when retention removed it (drawing resumes polling from its taskId)', async () => {
    const api = await startApi(ctx);
    const before = Date.now();
    await store(api).insert(
      entry('dr_gone', {
        taskId: 'task-5',
        meta: { enqueuedAt: T0, replays: 2, callbackUrl: 'https://hooks.example.com/x' },
      }),
    );
    const res = await api.call({ method: 'POST', url: '/v1/dead-letters/dr_gone/replay' });
    expect(res.statusCode).toBe(202);
    const job = (await api.drawingQueue.getJob('dr_gone')) as Job<DrawingJobData>;
    expect(job.name).toBe('drawing');
    expect(job.data).toEqual({
      kind: 'drawing',
      task: { ...DRAWING, num: 1 },
      meta: { enqueuedAt: T0, replays: 3, callbackUrl: 'https://hooks.example.com/x' },
      state: { taskId: 'task-5', polls: 0, resumedAt: expect.any(Number) },
      history: [{ attempt: 1, at: T0, code: 'POLL_TIMEOUT', message: 'gave up polling' }],
    });
    expect(job.data.state?.resumedAt).toBeGreaterThanOrEqual(before);
    expect(job.opts.attempts).toBeGreaterThan(1);
  });

  it('adds a CME job again under its action name', async () => {
    const api = await startApi(ctx);
    const operation = {
      userId: 'u1',
      action: 'Material/DeleteMaterial' as const,
      params: { MaterialId: 'm1' },
    };
    await store(api).insert(
      entry('cm_gone', { queue: 'cme', kind: 'cme', code: 'AuthFailure', request: operation }),
    );
    expect(
      (await api.call({ method: 'POST', url: '/v1/dead-letters/cm_gone/replay' })).statusCode,
    ).toBe(202);
    const job = (await api.cmeQueue.getJob('cm_gone')) as Job<CmeJobData>;
    expect(job.name).toBe('Material/DeleteMaterial');
    expect(job.data).toMatchObject({ kind: 'cme', operation, meta: { replays: 1 } });
    expect(job.data.history).toEqual(entry('cm_gone').history);
    expect(['waiting', 'prioritized']).toContain(await job.getState());
    expect(job.attemptsMade).toBe(0);
    expect(job.opts.attempts).toBeGreaterThan(1);
    // Waiting again after a failure it keeps in its history: `retrying`, no attempt made yet.
    expect((await api.call({ method: 'GET', url: '/v1/jobs/cm_gone' })).json()).toMatchObject({
      kind: 'cme',
      state: 'retrying',
      attempts: 0,
    });
  });

  it('refuses (409, entry kept) while the job is not failed yet: a worker is still filing it', async () => {
    const api = await startApi(ctx);
    const { id } = (
      await api.call({ method: 'POST', url: '/v1/drawings', payload: DRAWING })
    ).json();
    // The worker inserts the dead letter first, then BullMQ records the failure.
    await store(api).insert(entry(id, { taskId: 'task-9' }));
    const res = await api.call({ method: 'POST', url: `/v1/dead-letters/${id}/replay` });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('REPLAY_CONFLICT');
    expect(res.headers['retry-after']).toBe('1');
    expect(await store(api).has(id)).toBe(true);
    // The job is left as it was: still queued, never replayed.
    const untouched = (await api.drawingQueue.getJob(id)) as Job<DrawingJobData>;
    expect(['waiting', 'prioritized']).toContain(await untouched.getState());
    expect(untouched.data.meta.replays).toBeUndefined();

    const bulk = await api.call({
      method: 'POST',
      url: '/v1/dead-letters/replay',
      payload: { all: true },
    });
    expect(bulk.json()).toEqual({ replayed: 0 });
    expect(await store(api).has(id)).toBe(true);
    expect((await api.drawingQueue.getJob(id))?.data.meta.replays).toBeUndefined();
  });

  it('runs one replay of an entry at a time: another one meanwhile gets 409 and changes nothing', async () => {
    const api = await startApi(ctx);
    const { batch, id, ledger } = await deadBatchItem(api);
    const replay = () => api.call({ method: 'POST', url: `/v1/dead-letters/${id}/replay` });

    // A replay of this entry is under way elsewhere (it holds the entry's lease).
    const redis = ctx.connection();
    const lease = atelierKeys(api.prefix).deadLetters.replayLease(id);
    await redis.set(lease, 'another-replay', 'PX', 30_000);
    const refused = await replay();
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({
      code: 'REPLAY_CONFLICT',
      details: { id, state: 'replaying' },
    });
    expect(refused.headers['retry-after']).toBe('1');
    expect(await ledger.get(batch.id)).toMatchObject({ dead: 1, pending: 1, state: 'open' });
    expect(await store(api).has(id)).toBe(true);
    expect(await api.drawingQueue.getJobState(id)).toBe('failed');
    expect(await redis.get(lease)).toBe('another-replay');

    // Two replays at once: exactly one goes through; the item is reopened once.
    await redis.del(lease);
    const answers = await Promise.all([replay(), replay()]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([202, 409]);
    expect(await ledger.get(batch.id)).toMatchObject({ dead: 0, pending: 2, state: 'open' });
    expect(await store(api).has(id)).toBe(false);
    const job = (await api.drawingQueue.getJob(id)) as Job<DrawingJobData>;
    expect(job.data.meta.replays).toBe(1);
    expect(['waiting', 'prioritized']).toContain(await job.getState());
    expect(job.attemptsMade).toBe(0);
    expect(job.data.state).toMatchObject({ taskId: 'task-77' });
    expect(await redis.exists(lease)).toBe(0);
  });

  it('answers NOT_FOUND for an id with no dead letter', async () => {
    const api = await startApi(ctx);
    const res = await api.call({ method: 'POST', url: '/v1/dead-letters/dr_none/replay' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('replays every entry matching a filter, and demands all:true for an empty one', async () => {
    const api = await startApi(ctx);
    const dl = store(api);
    await dl.insert(entry('dr_1', { code: 'HTTP_503' }));
    await dl.insert(entry('dr_2', { code: 'HTTP_503' }));
    await dl.insert(entry('dr_3', { code: '202' }));
    const empty = await api.call({ method: 'POST', url: '/v1/dead-letters/replay', payload: {} });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.details[0]).toMatchObject({ field: 'all', rule: 'required' });

    const res = await api.call({
      method: 'POST',
      url: '/v1/dead-letters/replay',
      payload: { code: 'HTTP_503' },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ replayed: 2 });
    expect((await dl.list()).items.map((item) => item.id)).toEqual(['dr_3']);
    for (const id of ['dr_1', 'dr_2']) {
      const job = (await api.drawingQueue.getJob(id)) as Job<DrawingJobData>;
      expect(['waiting', 'prioritized']).toContain(await job.getState());
      expect(job.data).toMatchObject({
        kind: 'drawing',
        task: { ...DRAWING, num: 1 },
        meta: { replays: 1 },
        history: entry(id).history,
      });
    }
    expect(await api.drawingQueue.getJob('dr_3')).toBeUndefined();

    const all = await api.call({
      method: 'POST',
      url: '/v1/dead-letters/replay',
      payload: { all: true },
    });
    expect(all.json()).toEqual({ replayed: 1 });
    expect(await dl.count()).toBe(0);
    const third = (await api.drawingQueue.getJob('dr_3')) as Job<DrawingJobData>;
    expect(['waiting', 'prioritized']).toContain(await third.getState());
    expect(third.data.meta.replays).toBe(1);
  });
});

describe('delete and purge', () => {
  it('deletes the entry and its failed job; the batch item stays dead', async () => {
    const api = await startApi(ctx);
    const { batch, id, ledger } = await deadBatchItem(api);

    const res = await api.call({ method: 'DELETE', url: `/v1/dead-letters/${id}` });
    expect(res.statusCode).toBe(204);
    expect(await store(api).has(id)).toBe(false);
    expect(await api.drawingQueue.getJob(id)).toBeUndefined();
    expect((await api.call({ method: 'GET', url: `/v1/jobs/${id}` })).statusCode).toBe(404);
    expect(await ledger.get(batch.id)).toMatchObject({ dead: 1, pending: 1 });
    expect((await api.call({ method: 'DELETE', url: `/v1/dead-letters/${id}` })).statusCode).toBe(
      404,
    );
  });

  it('purges every entry matching a filter', async () => {
    const api = await startApi(ctx);
    const dl = store(api);
    await dl.insert(entry('dr_b_p~0', { meta: { enqueuedAt: T0, batchId: 'b_p', batchIndex: 0 } }));
    await dl.insert(entry('dr_b_p~1', { meta: { enqueuedAt: T0, batchId: 'b_p', batchIndex: 1 } }));
    await dl.insert(entry('dr_keep'));
    const res = await api.call({
      method: 'POST',
      url: '/v1/dead-letters/purge',
      payload: { batchId: 'b_p' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ purged: 2 });
    expect((await dl.list()).items.map((item) => item.id)).toEqual(['dr_keep']);
  });
});
