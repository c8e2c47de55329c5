import { createProducer } from '@atelier/producer';
import { afterEach, describe, expect, it } from 'vitest';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

function producerFor(stack: DrawingStack) {
  const producer = createProducer({ connection: ctx.connection(), prefix: stack.prefix });
  ctx.onCleanup(() => producer.close());
  return producer;
}

describe('replaying dead letters', () => {
  it('a drawing that timed out polling resumes polling with its taskId: no second submit', async () => {
    const stack = await DrawingStack.start(ctx, {
      // Dies at 1.5 s; the replay (after that) restarts the 1.5 s deadline, the task is ready at 2.2 s.
      simulator: { duration: { kind: 'fixed', ms: 2200 } },
      env: { DRAWING_POLL_DEADLINE_MS: '1500', DRAWING_POLL_FIRST_MS: '200' },
    });
    await stack.startWorker();
    const producer = producerFor(stack);
    const { id } = await producer.enqueueDrawing({
      text: 'timed out',
      style: '油画',
      resolution: '1024*1024',
    });
    const entry = await stack.dead(id);
    expect(entry.code).toBe('POLL_TIMEOUT');

    const replayedAt = Date.now();
    await producer.replayDeadLetter(id);
    expect(await stack.deadLetters.has(id)).toBe(false);
    const job = await stack.completed(id);
    expect(job.returnvalue.taskId).toBe(entry.taskId);
    expect(stack.sim.submitsFor('timed out')).toBe(1);
    // The replayed run: one more replay, the same task polled from the replay on, the first
    // run's failure kept in the history, and an attempt count started afresh.
    expect(job.data.meta.replays).toBe(1);
    expect(job.data.state).toMatchObject({ taskId: entry.taskId });
    expect(job.data.state?.resumedAt).toBeGreaterThanOrEqual(replayedAt);
    expect(job.data.history?.map((h) => h.code)).toEqual(['POLL_TIMEOUT']);
    expect(job.attemptsMade).toBe(1);
    expect(await producer.getJob(id)).toMatchObject({
      state: 'completed',
      attempts: 1,
      result: { taskId: entry.taskId },
    });
  });

  it('replaying a dead batch item keeps the batch counters exact', async () => {
    const stack = await DrawingStack.start(ctx);
    stack.sim.script('item one', { submit: [{ code: 202 }] });
    await stack.startWorker();
    const producer = producerFor(stack);
    const { id } = await producer.createBatch(
      ['item zero', 'item one', 'item two'].map((text) => ({
        text,
        style: '油画',
        resolution: '1024*1024',
      })),
    );
    const done = await waitFor(
      async () => {
        const batch = await producer.getBatch(id);
        return batch.state === 'completed' ? batch : undefined;
      },
      { what: 'the batch to finish' },
    );
    expect(done).toMatchObject({ total: 3, completed: 2, dead: 1, pending: 0 });

    const [dead] = (await producer.listDeadLetters({ batchId: id })).items;
    expect(dead?.code).toBe('202');
    const deadId = dead?.id as string;
    await producer.replayDeadLetter(deadId);
    const after = await waitFor(
      async () => {
        const batch = await producer.getBatch(id);
        return batch.completed === 3 ? batch : undefined;
      },
      { what: 'the replayed item to complete' },
    );
    expect(after).toMatchObject({
      total: 3,
      completed: 3,
      dead: 0,
      pending: 0,
      state: 'completed',
    });
    const lines = [];
    for await (const line of producer.batchResults(id)) lines.push(line);
    expect(lines.map((l) => l.state)).toEqual(['completed', 'completed', 'completed']);
    // The replayed item itself: completed on its second submit, one replay, the refusal kept.
    const replayed = await stack.completed(deadId);
    expect(replayed.data.meta).toMatchObject({ batchId: id, batchIndex: 1, replays: 1 });
    expect(replayed.data.history?.map((h) => h.code)).toEqual(['202']);
    expect(replayed.returnvalue.images.length).toBeGreaterThan(0);
    expect(lines[1]).toMatchObject({ state: 'completed', taskId: replayed.returnvalue.taskId });
    expect(stack.sim.submitsFor('item one')).toBe(2);
  });

  it('a replay that died after retrying the job, before removing the entry, loses nothing', async () => {
    const stack = await DrawingStack.start(ctx);
    stack.sim.script('dies once', { submit: [{ code: 202 }] });
    await stack.startWorker();
    const producer = producerFor(stack);
    const { id } = await producer.enqueueDrawing({
      text: 'dies once',
      style: '油画',
      resolution: '1024*1024',
    });
    const entry = await stack.dead(id);
    // What a replay does up to the moment its process dies: the job is retried with one
    // more replay in its meta, the entry is still there.
    const job = await stack.queue.getJob(id);
    await job?.updateData({ ...job.data, meta: { ...job.data.meta, replays: 1 } });
    await job?.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });

    // The replayed run removes the stale filing itself, and completes: completed, not dead.
    const replayed = await stack.completed(id);
    expect(await stack.deadLetters.get(id)).toBeUndefined();
    expect(replayed.data.meta.replays).toBe(1);
    expect(replayed.data.history?.map((h) => h.code)).toEqual(['202']);
    expect(replayed.returnvalue.taskId).toBe(replayed.data.state?.taskId);
    expect((await producer.getJob(id)).state).toBe('completed');
    expect(stack.sim.submitsFor('dies once')).toBe(2); // 202 refused the first: nothing billed
    // A replay that comes round again finds nothing to do, and cannot remove a newer filing.
    await expect(producer.replayDeadLetter(id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await stack.deadLetters.remove(id, entry)).toBeUndefined();
  });

  it('a replayed job that dies again is filed anew; the replay does not remove the new filing', async () => {
    const stack = await DrawingStack.start(ctx);
    stack.sim.script('dies twice', { submit: [{ code: 202 }, { code: 202 }] });
    await stack.startWorker();
    const producer = producerFor(stack);
    const { id } = await producer.enqueueDrawing({
      text: 'dies twice',
      style: '油画',
      resolution: '1024*1024',
    });
    const first = await stack.dead(id);
    await producer.replayDeadLetter(id);
    const second = await waitFor(
      async () => {
        const now = await stack.deadLetters.get(id);
        return now &&
          (now.meta.replays ?? 0) === 1 &&
          (await (await stack.queue.getJob(id))?.isFailed())
          ? now
          : undefined;
      },
      { what: 'the second filing' },
    );
    expect(second.failedAt).toBeGreaterThanOrEqual(first.failedAt);
    expect(await stack.deadLetters.remove(id, first)).toBeUndefined();
    expect(await stack.deadLetters.get(id)).toMatchObject({ code: '202', meta: { replays: 1 } });
    // The replayed job failed for good again, its history holding both refusals.
    expect(second.history.map((h) => h.code)).toEqual(['202', '202']);
    const job = await stack.job(id);
    expect(job?.failedReason).toMatch(/^\[202\] /);
    expect(job?.attemptsMade).toBe(1);
    expect(job?.data.history).toEqual(second.history);
    expect(await producer.getJob(id)).toMatchObject({
      state: 'dead',
      error: { code: '202' },
    });
  });
});
