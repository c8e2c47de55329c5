import { randomUUID } from 'node:crypto';
import {
  type AttemptRecord,
  atelierKeys,
  type DeadLetter,
  type DrawingJobData,
  QUEUE_NAMES,
} from '@atelier/shared';
import { DeadLetterStore } from '@atelier/store';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { betweenReads } from '../support/between-reads.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { DRAWING, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const FAILURE: AttemptRecord = {
  attempt: 1,
  at: 1,
  code: 'POLL_TIMEOUT',
  message: 'gave up polling',
};

describe('replaying a dead letter while the worker is still failing its job', () => {
  it('retries the job with the data it failed with (not data read before the failure)', async () => {
    const api = await startApi(ctx);
    const { id } = await api.producer.enqueueDrawing(DRAWING);
    const worker = new Worker<DrawingJobData>(QUEUE_NAMES.drawing, null, {
      connection: ctx.connection(),
      prefix: api.prefix,
    });
    ctx.onCleanup(() => worker.close(true));
    const token = randomUUID();
    const job = (await worker.getNextJob(token)) as Job<DrawingJobData>;
    const entry: DeadLetter = {
      id,
      queue: 'drawing',
      kind: 'drawing',
      code: FAILURE.code,
      message: FAILURE.message,
      attempts: 1,
      history: [FAILURE],
      request: { ...DRAWING, num: 1 },
      meta: job.data.meta,
      failedAt: Date.now(),
    };
    // The worker files the dead letter first, then records the attempt and fails the job:
    // the last two happen between the replay's reads.
    await new DeadLetterStore(ctx.connection(), api.prefix).insert(entry);
    const hook = betweenReads(api.producer.redis, `${api.prefix}:drawing:${id}`, async () => {
      await job.updateData({ ...job.data, history: [FAILURE] });
      await job.moveToFailed(new UnrecoverableError('[POLL_TIMEOUT] gave up polling'), token);
    });
    const first = await api.producer.replayDeadLetter(id).then(
      () => 'replayed',
      (error: { code?: string }) => error.code,
    );
    hook.restore();
    expect(hook.after).toBeDefined();
    // Read before the failure: the job was still active, so the replay waits for it.
    if (first !== 'replayed') {
      expect(first).toBe('REPLAY_CONFLICT');
      await api.producer.replayDeadLetter(id);
    }

    const replayed = await api.drawingQueue.getJob(id);
    expect(replayed?.data.history).toEqual([FAILURE]);
    expect(replayed?.data.meta.replays).toBe(1);
    expect(await api.drawingQueue.getJobState(id)).toBe('prioritized');
    expect(await api.producer.getDeadLetter(id).catch((e: { code?: string }) => e.code)).toBe(
      'NOT_FOUND',
    );
  });
});

describe('listing dead letters while one is removed', () => {
  it('counts exactly the entries it lists', async () => {
    const api = await startApi(ctx);
    const store = new DeadLetterStore(ctx.connection(), api.prefix);
    const entries = ['dr_l1', 'dr_l2', 'dr_l3'].map(
      (id, i): DeadLetter => ({
        id,
        queue: 'drawing',
        kind: 'drawing',
        code: FAILURE.code,
        message: FAILURE.message,
        attempts: 1,
        history: [FAILURE],
        request: { ...DRAWING, num: 1 },
        meta: { enqueuedAt: 1 },
        failedAt: 1000 + i,
      }),
    );
    for (const entry of entries) await store.insert(entry);
    // An operator deletes one while the page is read.
    const hook = betweenReads(api.producer.redis, atelierKeys(api.prefix).deadLetters.byTime, () =>
      store.remove('dr_l2'),
    );
    const page = await api.producer.listDeadLetters({}, { limit: 50 });
    hook.restore();

    expect(hook.after).toBeDefined();
    expect(page.total).toBe(page.items.length);
  });
});
