import { randomUUID } from 'node:crypto';
import {
  type DeadLetter,
  type DrawingJobData,
  type DrawingResult,
  QUEUE_NAMES,
} from '@atelier/shared';
import { DeadLetterStore } from '@atelier/store';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { betweenReads } from '../support/between-reads.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { type ApiHarness, DRAWING, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const RESULT: DrawingResult = {
  taskId: 'task-race',
  images: ['https://img.example/race.png'],
  polls: 1,
  submittedAt: 1,
  finishedAt: 2,
};

/** A queued drawing taken by a manual BullMQ worker: active, its lock token in hand. */
async function activeJob(api: ApiHarness) {
  const res = await api.call({ method: 'POST', url: '/v1/drawings', payload: DRAWING });
  const id: string = res.json().id;
  const worker = new Worker<DrawingJobData, DrawingResult>(QUEUE_NAMES.drawing, null, {
    connection: ctx.connection(),
    prefix: api.prefix,
  });
  ctx.onCleanup(() => worker.close(true));
  const token = randomUUID();
  const job = (await worker.getNextJob(token)) as Job<DrawingJobData, DrawingResult>;
  expect(job.id).toBe(id);
  return { id, job, token, key: `${api.prefix}:${QUEUE_NAMES.drawing}:${id}` };
}

async function status(api: ApiHarness, id: string) {
  const res = await api.call({ method: 'GET', url: `/v1/jobs/${id}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

describe('GET /v1/jobs/:id while the job finishes', () => {
  it('never answers completed without the result, when the job completes between two reads', async () => {
    const api = await startApi(ctx);
    const { id, job, token, key } = await activeJob(api);
    const hook = betweenReads(api.producer.redis, key, () =>
      job.moveToCompleted(RESULT, token, false),
    );
    const body = await status(api, id);
    hook.restore();

    expect(hook.after).toBeDefined();
    // The answer is from before the completion or after it, never a mix of both.
    if (body.state === 'completed') {
      expect(body).toEqual({
        id,
        kind: 'drawing',
        state: 'completed',
        attempts: 1,
        result: RESULT,
      });
    } else {
      expect(body).toEqual({ id, kind: 'drawing', state: 'running', attempts: 0 });
    }
    expect(await status(api, id)).toEqual({
      id,
      kind: 'drawing',
      state: 'completed',
      attempts: 1,
      result: RESULT,
    });
  });

  it('never answers dead with an error that is not the job’s, when it fails between two reads', async () => {
    const api = await startApi(ctx);
    const { id, job, token, key } = await activeJob(api);
    const hook = betweenReads(api.producer.redis, key, () =>
      job.moveToFailed(new UnrecoverableError('[POLL_TIMEOUT] gave up polling'), token, false),
    );
    const body = await status(api, id);
    hook.restore();

    expect(hook.after).toBeDefined();
    if (body.state === 'dead') {
      expect(body.error).toEqual({ code: 'POLL_TIMEOUT', message: 'gave up polling' });
    } else {
      expect(body).toEqual({ id, kind: 'drawing', state: 'running', attempts: 0 });
    }
  });

  it('answers from the dead letter and the job together, when the worker files it between two reads', async () => {
    const api = await startApi(ctx);
    const { id, job, token, key } = await activeJob(api);
    const entry: DeadLetter = {
      id,
      queue: 'drawing',
      kind: 'drawing',
      code: '202',
      message: 'content refused by the provider',
      attempts: 1,
      history: [],
      request: { ...DRAWING, num: 1 },
      meta: job.data.meta,
      failedAt: Date.now(),
    };
    const deadLetters = new DeadLetterStore(ctx.connection(), api.prefix);
    // What the worker does for a terminal failure: file the dead letter, then fail the job.
    const hook = betweenReads(api.producer.redis, key, async () => {
      await deadLetters.insert(entry);
      await job.moveToFailed(
        new UnrecoverableError('[202] content refused by the provider'),
        token,
        false,
      );
    });
    const body = await status(api, id);
    hook.restore();

    expect(hook.after).toBeDefined();
    if (body.state === 'dead') {
      expect(body.error).toEqual({ code: '202', message: 'content refused by the provider' });
    } else {
      expect(body).toEqual({ id, kind: 'drawing', state: 'running', attempts: 0 });
    }
  });
});
