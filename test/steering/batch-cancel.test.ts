import { afterEach, describe, expect, it } from 'vitest';
import { startApi } from '../producer/api-harness.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';
import {
  batchCompletions,
  createBatch,
  readBatch,
  resultLines,
  SECRET,
  steeringSetup,
  textOf,
} from './steering-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const TOTAL = 120;
const CONCURRENCY = 3;

describe('POST /v1/batches/{id}/cancel', () => {
  it('stops the submits at the answer: paid items finish with their results, the rest end cancelled, counts add up throughout, batch.completed once', {
    timeout: 60_000,
  }, async () => {
    // Every provider answer takes 60 ms and tasks take 400 ms: the batch is well under way,
    // with submits in flight, when it is cancelled.
    const setup = await steeringSetup(ctx, {
      simulator: { duration: { kind: 'fixed', ms: 400 }, faults: { delayMs: 60 } },
      env: { DRAWING_CONCURRENCY: String(CONCURRENCY) },
    });
    const { stack, api, hook } = setup;
    const id = await createBatch(setup, TOTAL);
    await waitFor(() => stack.sim.counters().submits >= 15, {
      timeoutMs: 20_000,
      what: '15 submits',
    });

    const cancel = await api.call({ method: 'POST', url: `/v1/batches/${id}/cancel` });
    const submitsAtCancel = stack.sim.counters().submits;
    expect(cancel.statusCode).toBe(202);
    expect(cancel.json()).toMatchObject({ id, total: TOTAL, state: 'cancelling' });
    expect(cancel.json().callbackUrl).toBeUndefined();

    // Counts add up at every read while the cancel takes effect.
    const final = await waitFor(
      async () => {
        const batch = await readBatch(api, id);
        return batch.state === 'cancelled' ? batch : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 10, what: 'the batch to be cancelled' },
    );
    // A submit in flight when the cancel answered (its intent recorded before) may arrive after
    // it: at most one per worker slot; none after that.
    const submits = stack.sim.counters().submits;
    expect(submits - submitsAtCancel).toBeLessThanOrEqual(CONCURRENCY);
    expect(final.pending).toBe(0);
    expect(final.dead).toBe(0);
    expect(final.cancelled).toBeGreaterThan(0);
    // Every item that was paid for finished and kept its result; no cancelled item was paid.
    expect(final.completed).toBe(submits);
    expect(stack.sim.counters().tasksCreated).toBe(submits);

    const lines = await resultLines(api, id);
    expect(lines).toHaveLength(TOTAL);
    for (const line of lines) {
      const paid = stack.sim.submitsFor(textOf(line.index));
      if (line.state === 'completed') {
        expect(paid).toBe(1);
        expect(line.images?.length).toBe(1);
      } else {
        expect(line).toEqual({ index: line.index, jobId: line.jobId, state: 'cancelled' });
        expect(paid).toBe(0);
      }
    }
    expect(lines.filter((l) => l.state === 'cancelled')).toHaveLength(final.cancelled);

    // A cancelled item answers cancelled, with its outcome, through GET /v1/jobs.
    const cancelledLine = lines.find((l) => l.state === 'cancelled');
    const job = await api.call({ method: 'GET', url: `/v1/jobs/${cancelledLine?.jobId}` });
    expect(job.json()).toMatchObject({
      id: cancelledLine?.jobId,
      kind: 'drawing',
      state: 'cancelled',
      error: {
        code: 'CANCELLED',
        message: expect.stringMatching(/batch was cancelled.*nothing was paid/),
      },
    });

    // batch.completed: once, with the counts.
    await waitFor(() => batchCompletions(hook).length === 1, { what: 'batch.completed' });
    expect(batchCompletions(hook)[0]).toMatchObject({
      event: 'batch.completed',
      id,
      total: TOTAL,
      completed: final.completed,
      dead: 0,
      cancelled: final.cancelled,
      pending: 0,
      state: 'cancelled',
    });

    // Idempotent, from another API replica too; nothing changes and nothing is announced again.
    const replica = await startApi(ctx, {
      prefix: stack.prefix,
      env: { ATELIER_CALLBACK_SECRET: SECRET, ATELIER_CALLBACK_ALLOW_PRIVATE: 'true' },
    });
    const again = await replica.call({ method: 'POST', url: `/v1/batches/${id}/cancel` });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ state: 'cancelled', cancelled: final.cancelled });
    expect(
      hook.requests.filter((r) => JSON.parse(r.body).event === 'batch.completed'),
    ).toHaveLength(1);
    expect(stack.sim.counters().submits).toBe(submits);
  });

  it('ends a batch no worker has started at once: every item cancelled, nothing submitted', async () => {
    const setup = await steeringSetup(ctx, { worker: false });
    const { stack, api, hook } = setup;
    const id = await createBatch(setup, 700);

    const cancel = await api.call({ method: 'POST', url: `/v1/batches/${id}/cancel` });
    expect(cancel.statusCode).toBe(202);
    // The API ends the waiting items itself, a chunk at a time, right after answering.
    const final = await waitFor(
      async () => {
        const batch = await readBatch(api, id);
        return batch.state === 'cancelled' ? batch : undefined;
      },
      { timeoutMs: 15_000, what: 'the batch to be cancelled' },
    );
    expect(final).toMatchObject({ completed: 0, dead: 0, cancelled: 700, pending: 0 });
    expect(await stack.queue.getJobCounts('prioritized', 'wait', 'delayed', 'completed')).toEqual({
      prioritized: 0,
      wait: 0,
      delayed: 0,
      completed: 700,
    });
    const job = await stack.queue.getJob(`dr_${id}~699`);
    expect(job?.returnvalue).toEqual({
      cancelled: true,
      cancelledAt: expect.any(Number),
      by: 'batch',
    });

    // A worker started now has nothing to submit; the completion is announced once.
    await stack.startWorker();
    await waitFor(() => batchCompletions(hook).length === 1, {
      timeoutMs: 15_000,
      what: 'batch.completed',
    });
    expect(batchCompletions(hook)[0]).toMatchObject({ cancelled: 700, state: 'cancelled' });
    expect(stack.sim.counters().submits).toBe(0);
  });

  it('stops an item that was running at the cancel at its submit: the run ends it cancelled, unpaid', async () => {
    const setup = await steeringSetup(ctx, { worker: false });
    const { stack, api, hook } = setup;
    const id = await createBatch(setup, 3);
    // Item 1 looks running (a worker holds its lock): the cancel's pass leaves it to its run.
    const running = `dr_${id}~1`;
    const lockKey = `${stack.queue.toKey(running)}:lock`;
    const redis = ctx.connection();
    await redis.set(lockKey, 'held-by-a-worker');

    expect((await api.call({ method: 'POST', url: `/v1/batches/${id}/cancel` })).statusCode).toBe(
      202,
    );
    await waitFor(async () => (await readBatch(api, id)).cancelled === 2, {
      what: 'the two waiting items to be cancelled',
    });
    expect(await readBatch(api, id)).toMatchObject({ state: 'cancelling', pending: 1 });

    // Its run reaches the submit after the cancel answered: the submit is refused.
    await redis.del(lockKey);
    await stack.startWorker();
    const final = await waitFor(
      async () => {
        const batch = await readBatch(api, id);
        return batch.state === 'cancelled' ? batch : undefined;
      },
      { timeoutMs: 15_000, what: 'the batch to be cancelled' },
    );
    expect(final).toMatchObject({ completed: 0, cancelled: 3, pending: 0 });
    expect(stack.sim.submitsFor(textOf(1))).toBe(0);
    expect(stack.sim.counters().submits).toBe(0);
    const job = await stack.completed(running);
    expect(job.returnvalue).toEqual({
      cancelled: true,
      cancelledAt: expect.any(Number),
      by: 'batch',
    });
    await waitFor(() => batchCompletions(hook).length === 1, { what: 'batch.completed' });
  });

  it('answers 404 for an unknown batch and 409 BATCH_FINISHED for a completed one', async () => {
    const setup = await steeringSetup(ctx);
    const { api } = setup;
    const missing = await api.call({ method: 'POST', url: '/v1/batches/b_nope/cancel' });
    expect(missing.statusCode).toBe(404);
    const id = await createBatch(setup, 2);
    await waitFor(async () => (await readBatch(api, id)).state === 'completed', {
      what: 'the batch to complete',
    });
    const late = await api.call({ method: 'POST', url: `/v1/batches/${id}/cancel` });
    expect(late.statusCode).toBe(409);
    expect(late.json().error.code).toBe('BATCH_FINISHED');
  });
});
