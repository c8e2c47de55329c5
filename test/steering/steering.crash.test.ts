import { BatchSteering, CallbackScheduler, JobCancellation } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { startChildWorker } from '../support/child-worker.ts';
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

const FAST_STALLS = { lockDuration: 1000, stalledInterval: 300 };
const CHILD_STALLS = {
  TEST_LOCK_DURATION_MS: String(FAST_STALLS.lockDuration),
  TEST_STALLED_INTERVAL_MS: String(FAST_STALLS.stalledInterval),
};

describe('a worker killed (SIGKILL) during a cancel', () => {
  it('leaves nothing cancelled to be submitted by the runs that take its jobs over', {
    timeout: 60_000,
  }, async () => {
    const setup = await steeringSetup(ctx, {
      worker: false,
      simulator: { duration: { kind: 'fixed', ms: 300 }, faults: { delayMs: 150 } },
      env: { DRAWING_CONCURRENCY: '6' },
    });
    const { stack, api, hook } = setup;
    const total = 80;
    const child = await startChildWorker({
      ...stack.env,
      ...CHILD_STALLS,
      ATELIER_WORKER_QUEUES: 'drawing',
    });
    ctx.onCleanup(() => child.kill());
    const id = await createBatch(setup, total);
    await waitFor(() => stack.sim.counters().submits >= 12, {
      timeoutMs: 20_000,
      what: '12 submits',
    });

    // The cancel answers while the child holds jobs (some mid-submit); the child dies at once.
    expect((await api.call({ method: 'POST', url: `/v1/batches/${id}/cancel` })).statusCode).toBe(
      202,
    );
    await child.kill();
    await stack.startWorker(FAST_STALLS);

    const final = await waitFor(
      async () => {
        const batch = await readBatch(api, id);
        return batch.state === 'cancelled' ? batch : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 20, what: 'the batch to be cancelled' },
    );
    expect(final.pending).toBe(0);
    expect(final.cancelled).toBeGreaterThan(0);
    for (const line of await resultLines(api, id)) {
      const paid = stack.sim.submitsFor(textOf(line.index));
      if (line.state === 'cancelled') expect(paid).toBe(0);
      else if (line.state === 'completed') expect(paid).toBe(1);
      else {
        // Killed between its intent and saving its taskId: maybe paid, never submitted again.
        const entry = await stack.deadLetters.get(line.jobId);
        expect(entry?.code).toBe('SUBMIT_UNCONFIRMED');
        expect(paid).toBeLessThanOrEqual(1);
      }
    }
    await waitFor(() => batchCompletions(hook).length === 1, { what: 'batch.completed' });
    expect(batchCompletions(hook)[0]).toMatchObject({
      state: 'cancelled',
      cancelled: final.cancelled,
    });
  });

  it('tending the cancel (the API died after answering): another worker finishes it, nothing cancelled is submitted', {
    timeout: 60_000,
  }, async () => {
    const setup = await steeringSetup(ctx, { worker: false });
    const { stack, api, hook } = setup;
    const total = 3000;
    const id = await createBatch(setup, total);

    // The cancel as an API replica records it before dying: the flag, no tending.
    const redis = ctx.connection();
    const ledger = stack.batches;
    const logger = stack.logs.logger;
    const steering = new BatchSteering({
      redis,
      prefix: stack.prefix,
      ledger,
      cancellation: new JobCancellation(redis, stack.prefix, ledger.retention),
      queue: stack.queue,
      callbacks: new CallbackScheduler({ queue: undefined, logger }),
      logger,
    });
    expect((await steering.cancel(id)).state).toBe('cancelling');

    // A worker's keeper takes the tending up and is killed in the middle of its pass.
    const child = await startChildWorker({
      ...stack.env,
      ...CHILD_STALLS,
      ATELIER_WORKER_QUEUES: 'drawing',
      ATELIER_STEERING_INTERVAL_MS: '50',
    });
    ctx.onCleanup(() => child.kill());
    await waitFor(async () => (await readBatch(api, id)).cancelled > 0, {
      intervalMs: 5,
      what: 'the pass to start',
    });
    await child.kill();
    expect((await readBatch(api, id)).state).toBe('cancelling');

    await stack.startWorker(FAST_STALLS);
    const final = await waitFor(
      async () => {
        const batch = await readBatch(api, id);
        return batch.state === 'cancelled' ? batch : undefined;
      },
      { timeoutMs: 40_000, what: 'the batch to be cancelled' },
    );
    expect(final).toMatchObject({ completed: 0, dead: 0, cancelled: total, pending: 0 });
    expect(stack.sim.counters().submits).toBe(0);
    await waitFor(() => batchCompletions(hook).length === 1, { what: 'batch.completed' });
    expect(await stack.queue.getJobCounts('prioritized', 'wait', 'delayed', 'active')).toEqual({
      prioritized: 0,
      wait: 0,
      delayed: 0,
      active: 0,
    });
  });
});
