import type { DrawingJobData } from '@atelier/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { CME, DRAWING } from '../producer/api-harness.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';
import { createBatch, readBatch, steeringSetup } from './steering-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

async function enqueue(setup: Awaited<ReturnType<typeof steeringSetup>>, text: string) {
  const res = await setup.api.call({
    method: 'POST',
    url: '/v1/drawings',
    payload: { ...DRAWING, text },
  });
  expect(res.statusCode).toBe(202);
  return res.json().id as string;
}

describe('POST /v1/jobs/{id}/cancel', () => {
  it('cancels a waiting job at once (202, cancelled with its outcome), idempotently; it is never submitted', async () => {
    const setup = await steeringSetup(ctx, { worker: false });
    const { stack, api } = setup;
    const id = await enqueue(setup, 'cancel me');

    const res = await api.call({ method: 'POST', url: `/v1/jobs/${id}/cancel` });
    expect(res.statusCode).toBe(202);
    const cancelled = {
      id,
      kind: 'drawing',
      state: 'cancelled',
      attempts: 0,
      error: {
        code: 'CANCELLED',
        message: expect.stringMatching(
          /^it was cancelled .* before it was submitted: nothing was paid$/,
        ),
      },
    };
    expect(res.json()).toEqual(cancelled);
    expect((await api.call({ method: 'GET', url: `/v1/jobs/${id}` })).json()).toEqual(cancelled);
    const again = await api.call({ method: 'POST', url: `/v1/jobs/${id}/cancel` });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual(cancelled);

    // Ended in BullMQ too (completed, the cancel as its result): a worker never runs it.
    const job = await stack.completed(id);
    expect(job.returnvalue).toEqual({
      cancelled: true,
      cancelledAt: expect.any(Number),
      by: 'job',
    });
    const other = await enqueue(setup, 'not cancelled');
    await stack.startWorker();
    await stack.completed(other);
    expect(stack.sim.submitsFor('cancel me')).toBe(0);
    expect(stack.sim.counters().submits).toBe(1);
  });

  it('refuses with 409 ALREADY_SUBMITTED once the job is polling: the money is spent, it finishes with its result', async () => {
    const setup = await steeringSetup(ctx, {
      simulator: { duration: { kind: 'fixed', ms: 1500 } },
    });
    const { stack, api } = setup;
    const id = await enqueue(setup, 'paid for');
    await waitFor(
      async () =>
        (await api.call({ method: 'GET', url: `/v1/jobs/${id}` })).json().state === 'polling',
      { what: 'the job to poll' },
    );
    const res = await api.call({ method: 'POST', url: `/v1/jobs/${id}/cancel` });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toEqual({
      code: 'ALREADY_SUBMITTED',
      message: expect.stringMatching(/already submitted to the provider: the money is spent/),
      details: { id },
    });
    const done = await stack.completed(id);
    expect(done.returnvalue?.images).toHaveLength(1);
    expect(stack.sim.submitsFor('paid for')).toBe(1);
  });

  it('refuses when the submit intent came first (the call in flight), and stops the submit when the cancel came first', async () => {
    const setup = await steeringSetup(ctx, { simulator: { faults: { delayMs: 1500 } } });
    const { stack, api } = setup;
    const redis = ctx.connection();

    // Intent first: the paid call is on its way when the cancel arrives.
    const first = await enqueue(setup, 'intent first');
    await waitFor(
      async () => {
        const data = JSON.parse((await redis.hget(stack.queue.toKey(first), 'data')) ?? '{}');
        return (data as DrawingJobData).state?.submitIntentAt !== undefined;
      },
      { what: 'the submit intent' },
    );
    const refused = await api.call({ method: 'POST', url: `/v1/jobs/${first}/cancel` });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('ALREADY_SUBMITTED');
    await stack.completed(first);
    expect(stack.sim.submitsFor('intent first')).toBe(1);

    // Cancel first: the job is running (a worker holds its lock) but has not claimed its submit.
    await stack.queue.pause();
    const second = await enqueue(setup, 'cancel first');
    const lockKey = `${stack.queue.toKey(second)}:lock`;
    await redis.set(lockKey, 'held-by-a-worker');
    const accepted = await api.call({ method: 'POST', url: `/v1/jobs/${second}/cancel` });
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json().state).toBe('queued'); // stops at its submit, not ended yet
    await redis.del(lockKey);
    await stack.queue.resume();
    const job = await stack.completed(second);
    expect(job.returnvalue).toEqual({
      cancelled: true,
      cancelledAt: expect.any(Number),
      by: 'job',
    });
    expect((await api.call({ method: 'GET', url: `/v1/jobs/${second}` })).json()).toMatchObject({
      state: 'cancelled',
      error: { code: 'CANCELLED' },
    });
    expect(stack.sim.submitsFor('cancel first')).toBe(0);
  });

  it('refuses finished jobs (409 ALREADY_FINISHED), answers 404 for unknown ids, cancels a CME job that never ran', async () => {
    const setup = await steeringSetup(ctx);
    const { stack, api } = setup;
    const done = await enqueue(setup, 'finished');
    await stack.completed(done);
    const finished = await api.call({ method: 'POST', url: `/v1/jobs/${done}/cancel` });
    expect(finished.statusCode).toBe(409);
    expect(finished.json().error.code).toBe('ALREADY_FINISHED');
    expect((await api.call({ method: 'POST', url: '/v1/jobs/dr_nope/cancel' })).statusCode).toBe(
      404,
    );
    expect((await api.call({ method: 'POST', url: '/v1/jobs/xyz/cancel' })).statusCode).toBe(404);

    // The worker here runs no CME queue: the operation waits, and is cancelled before it runs.
    const cme = await api.call({ method: 'POST', url: '/v1/cme/operations', payload: CME });
    const cmeId = cme.json().id;
    const res = await api.call({ method: 'POST', url: `/v1/jobs/${cmeId}/cancel` });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ id: cmeId, kind: 'cme', state: 'cancelled' });
    expect(await api.cmeQueue.getJobCounts('wait', 'prioritized', 'completed')).toEqual({
      wait: 0,
      prioritized: 0,
      completed: 1,
    });
  });

  it('cancels one item of a batch: the batch counts it', async () => {
    const setup = await steeringSetup(ctx, { worker: false });
    const { api } = setup;
    const id = await createBatch(setup, 3);
    const res = await api.call({ method: 'POST', url: `/v1/jobs/dr_${id}~1/cancel` });
    expect(res.statusCode).toBe(202);
    expect(await readBatch(api, id)).toMatchObject({ state: 'open', cancelled: 1, pending: 2 });
    const lines = (await api.call({ method: 'GET', url: `/v1/batches/${id}/results` })).body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((l) => l.state)).toEqual(['pending', 'cancelled', 'pending']);
  });
});
