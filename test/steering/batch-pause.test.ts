import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';
import {
  batchCompletions,
  createBatch,
  readBatch,
  resultLines,
  steeringSetup,
  textOf,
} from './steering-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const TOTAL = 60;

describe('POST /v1/batches/{id}/pause and /resume', () => {
  it('a paused batch submits nothing new while its submitted tasks finish; resumed, every item is paid once, no attempt used', {
    timeout: 60_000,
  }, async () => {
    const setup = await steeringSetup(ctx, {
      simulator: { duration: { kind: 'fixed', ms: 300 }, faults: { delayMs: 40 } },
      env: { DRAWING_CONCURRENCY: '3' },
    });
    const { stack, api, hook } = setup;
    const id = await createBatch(setup, TOTAL);
    await waitFor(() => stack.sim.counters().submits >= 10, {
      timeoutMs: 20_000,
      what: '10 submits',
    });

    const paused = await api.call({ method: 'POST', url: `/v1/batches/${id}/pause` });
    expect(paused.statusCode).toBe(202);
    expect(paused.json()).toMatchObject({ id, state: 'paused', pausedAt: expect.any(Number) });
    expect((await api.call({ method: 'POST', url: `/v1/batches/${id}/pause` })).json().state).toBe(
      'paused',
    );

    // Quiet: every submitted task finished (polls go on while paused), every other item waits
    // parked in the delayed set (no worker slot held), nothing else runs.
    const quiet = await waitFor(
      async () => {
        const counts = await stack.queue.getJobCounts('active', 'prioritized', 'wait', 'delayed');
        const batch = await readBatch(api, id);
        const submits = stack.sim.counters().submits;
        const settled = batch.completed === submits;
        const parked = counts.delayed === batch.pending && counts.active === 0;
        return settled && parked && counts.prioritized === 0 && counts.wait === 0
          ? { batch, submits }
          : undefined;
      },
      { timeoutMs: 20_000, what: 'the paused batch to be quiet' },
    );
    expect(quiet.batch.state).toBe('paused');
    expect(quiet.batch.pending).toBeGreaterThan(0);
    expect(quiet.batch.completed).toBeGreaterThanOrEqual(10);
    expect(stack.sim.counters().submits).toBe(quiet.submits);

    const resumedAt = Date.now();
    const resumed = await api.call({ method: 'POST', url: `/v1/batches/${id}/resume` });
    expect(resumed.statusCode).toBe(202);
    expect(resumed.json().state).toBe('open');
    expect(resumed.json().pausedAt).toBeUndefined();
    const done = await waitFor(
      async () => {
        const batch = await readBatch(api, id);
        return batch.state === 'completed' ? batch : undefined;
      },
      { timeoutMs: 30_000, what: 'the batch to complete' },
    );
    // Released at once (parked items look again only after 10 minutes on their own).
    expect(Date.now() - resumedAt).toBeLessThan(20_000);
    expect(done).toMatchObject({ completed: TOTAL, dead: 0, cancelled: 0, pending: 0 });
    expect(stack.sim.counters().submits).toBe(TOTAL);
    for (let i = 0; i < TOTAL; i++) expect(stack.sim.submitsFor(textOf(i))).toBe(1);
    // The wait cost no attempt: each job completed on its first.
    for (const line of await resultLines(api, id)) {
      const job = await api.call({ method: 'GET', url: `/v1/jobs/${line.jobId}` });
      expect(job.json()).toMatchObject({ state: 'completed', attempts: 1 });
    }
    await waitFor(() => batchCompletions(hook).length === 1, { what: 'batch.completed' });
    expect(batchCompletions(hook)[0]).toMatchObject({ state: 'completed', completed: TOTAL });
  });

  it('a paused batch can be cancelled (its parked items end cancelled, unpaid), not resumed then', {
    timeout: 30_000,
  }, async () => {
    const setup = await steeringSetup(ctx, {
      simulator: { duration: { kind: 'fixed', ms: 200 } },
      env: { DRAWING_CONCURRENCY: '2' },
    });
    const { stack, api } = setup;
    const id = await createBatch(setup, 20);
    expect((await api.call({ method: 'POST', url: `/v1/batches/${id}/pause` })).statusCode).toBe(
      202,
    );
    await waitFor(
      async () => {
        const counts = await stack.queue.getJobCounts('active', 'prioritized', 'wait');
        return (counts.active ?? 0) + (counts.prioritized ?? 0) + (counts.wait ?? 0) === 0;
      },
      { timeoutMs: 15_000, what: 'every unsubmitted item to be parked' },
    );
    const submits = stack.sim.counters().submits;
    const cancel = await api.call({ method: 'POST', url: `/v1/batches/${id}/cancel` });
    expect(cancel.statusCode).toBe(202);
    const final = await waitFor(
      async () => {
        const batch = await readBatch(api, id);
        return batch.state === 'cancelled' ? batch : undefined;
      },
      { timeoutMs: 15_000, what: 'the batch to be cancelled' },
    );
    expect(final.completed).toBe(submits);
    expect(final.cancelled).toBe(20 - submits);
    expect(stack.sim.counters().submits).toBe(submits);
    const resume = await api.call({ method: 'POST', url: `/v1/batches/${id}/resume` });
    expect(resume.statusCode).toBe(409);
    expect(resume.json().error.code).toBe('BATCH_CANCELLED');
    const pause = await api.call({ method: 'POST', url: `/v1/batches/${id}/pause` });
    expect(pause.json().error.code).toBe('BATCH_CANCELLED');
  });
});
