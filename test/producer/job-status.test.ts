import {
  type DeadLetter,
  type DrawingJobData,
  type DrawingResult,
  QUEUE_NAMES,
} from '@atelier/shared';
import { DeadLetterStore } from '@atelier/store';
import { DelayedError, type Job, type Processor, UnrecoverableError, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';
import { type ApiHarness, DRAWING, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

async function enqueue(api: ApiHarness): Promise<string> {
  const res = await api.call({ method: 'POST', url: '/v1/drawings', payload: DRAWING });
  return res.json().id;
}

async function status(api: ApiHarness, id: string) {
  const res = await api.call({ method: 'GET', url: `/v1/jobs/${id}` });
  return { statusCode: res.statusCode, body: res.json() };
}

/** A BullMQ worker on the API's drawing queue, standing in for Atelier's. */
function worker(api: ApiHarness, processor: Processor<DrawingJobData, DrawingResult>) {
  const w = new Worker<DrawingJobData, DrawingResult>(QUEUE_NAMES.drawing, processor, {
    connection: ctx.connection(),
    prefix: api.prefix,
    settings: { backoffStrategy: () => 60_000 },
  });
  ctx.onCleanup(() => w.close(true));
  return w;
}

const RESULT: DrawingResult = {
  taskId: 'task-9',
  images: ['https://img.example/1.png'],
  polls: 2,
  submittedAt: 1,
  finishedAt: 2,
};

describe('GET /v1/jobs/:id', () => {
  it('says queued for a job no worker has started', async () => {
    const api = await startApi(ctx);
    const id = await enqueue(api);
    expect(await status(api, id)).toEqual({
      statusCode: 200,
      body: { id, kind: 'drawing', state: 'queued', attempts: 0 },
    });
  });

  it('says running while a worker holds the job', async () => {
    const api = await startApi(ctx);
    const id = await enqueue(api);
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    worker(api, async () => {
      await held;
      return RESULT;
    });
    await waitFor(async () => (await status(api, id)).body.state === 'running', {
      what: 'running',
    });
    release();
    await waitFor(async () => (await status(api, id)).body.state === 'completed', {
      what: 'completed',
    });
  });

  it('says polling for a submitted drawing waiting for its next poll', async () => {
    const api = await startApi(ctx);
    const id = await enqueue(api);
    worker(api, async (job: Job<DrawingJobData>, token) => {
      await job.updateData({
        ...job.data,
        state: { taskId: 'task-1', polls: 0, submittedAt: Date.now() },
      });
      await job.moveToDelayed(Date.now() + 60_000, token);
      throw new DelayedError();
    });
    await waitFor(async () => (await status(api, id)).body.state === 'polling', {
      what: 'polling',
    });
    expect((await status(api, id)).body.attempts).toBe(0);
  });

  it('says retrying, with the last failure, while backing off after a transient error', async () => {
    const api = await startApi(ctx);
    const id = await enqueue(api);
    worker(api, async (job: Job<DrawingJobData>) => {
      const record = {
        attempt: 1,
        at: Date.now(),
        code: 'HTTP_503',
        message: 'provider unavailable',
      };
      await job.updateData({ ...job.data, history: [record] });
      throw new Error('[HTTP_503] provider unavailable');
    });
    const body = await waitFor(async () => {
      const { body } = await status(api, id);
      return body.state === 'retrying' ? body : undefined;
    });
    expect(body).toEqual({
      id,
      kind: 'drawing',
      state: 'retrying',
      attempts: 1,
      error: { code: 'HTTP_503', message: 'provider unavailable' },
    });
  });

  it('says completed with the result', async () => {
    const api = await startApi(ctx);
    const id = await enqueue(api);
    worker(api, async () => RESULT);
    const body = await waitFor(async () => {
      const { body } = await status(api, id);
      return body.state === 'completed' ? body : undefined;
    });
    expect(body).toEqual({ id, kind: 'drawing', state: 'completed', attempts: 1, result: RESULT });
  });

  it('says dead with the code from a failed job the worker has not filed yet', async () => {
    const api = await startApi(ctx);
    const id = await enqueue(api);
    worker(api, async () => {
      throw new UnrecoverableError('[POLL_TIMEOUT] gave up after 600000 ms');
    });
    const body = await waitFor(async () => {
      const { body } = await status(api, id);
      return body.state === 'dead' ? body : undefined;
    });
    expect(body.error).toEqual({ code: 'POLL_TIMEOUT', message: 'gave up after 600000 ms' });
  });

  it('says dead with the code the reconciler will file for a job BullMQ failed itself', async () => {
    const api = await startApi(ctx);
    const id = await enqueue(api);
    const reason = 'job stalled more than allowable limit';
    worker(api, async () => {
      throw new UnrecoverableError(reason);
    });
    const body = await waitFor(async () => {
      const { body } = await status(api, id);
      return body.state === 'dead' ? body : undefined;
    });
    // The same code as the dead letter the worker's reconciler files for it.
    expect(body.error).toEqual({ code: 'STALLED_LIMIT', message: reason });
  });

  it('says dead from the dead-letter queue first, even after retention removed the job', async () => {
    const api = await startApi(ctx);
    const id = await enqueue(api);
    const entry: DeadLetter = {
      id,
      queue: 'drawing',
      kind: 'drawing',
      code: '202',
      message: 'content refused by the provider',
      attempts: 3,
      history: [],
      taskId: 'task-7',
      request: { ...DRAWING, num: 1 },
      meta: { enqueuedAt: Date.now() },
      failedAt: Date.now(),
    };
    await new DeadLetterStore(ctx.connection(), api.prefix).insert(entry);
    const expected = {
      id,
      kind: 'drawing',
      state: 'dead',
      attempts: 3,
      error: { code: '202', message: 'content refused by the provider' },
    };
    expect((await status(api, id)).body).toEqual(expected);
    await (await api.drawingQueue.getJob(id))?.remove();
    expect((await status(api, id)).body).toEqual(expected);
  });

  it('answers NOT_FOUND for unknown ids and ids of no known kind', async () => {
    const api = await startApi(ctx);
    for (const id of ['dr_nope', 'cm_nope', 'xx_1', '42']) {
      const { statusCode, body } = await status(api, id);
      expect(statusCode, id).toBe(404);
      expect(body.error.code).toBe('NOT_FOUND');
    }
  });

  it('reads a job whose id carries the longest readable idempotency key', async () => {
    const api = await startApi(ctx);
    const res = await api.call({
      method: 'POST',
      url: '/v1/drawings',
      payload: { ...DRAWING, idempotencyKey: 'k'.repeat(120) },
    });
    const { id } = res.json();
    expect(id.length).toBeGreaterThan(100); // past Fastify's default maxParamLength
    expect(await status(api, id)).toEqual({
      statusCode: 200,
      body: { id, kind: 'drawing', state: 'queued', attempts: 0 },
    });
  });

  it('reads CME jobs too (ids are unique across kinds)', async () => {
    const api = await startApi(ctx);
    const res = await api.call({
      method: 'POST',
      url: '/v1/cme/operations',
      payload: { userId: 'u1', action: 'Material/DeleteMaterial', params: { MaterialId: 'm1' } },
    });
    const { body } = await status(api, res.json().id);
    expect(body).toMatchObject({ kind: 'cme', state: 'queued' });
  });
});
