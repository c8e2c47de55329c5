import { afterEach, describe, expect, it } from 'vitest';
import { startChildWorker } from '../support/child-worker.ts';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const FAST_STALLS = { lockDuration: 1000, stalledInterval: 300 };

/** Waits until the job holds a persisted taskId and is active (a worker is inside its poll). */
async function untilPollingActive(stack: DrawingStack, id: string) {
  return waitFor(
    async () => {
      const job = await stack.job(id);
      return job?.data.state?.taskId && (await job.getState()) === 'active' ? job : undefined;
    },
    { what: 'the job to be mid-poll with its taskId saved' },
  );
}

describe('drawing jobs survive crashes without a second submit', () => {
  it('a worker process killed after the submit returned: another finishes the job, one submit', async () => {
    const stack = await DrawingStack.start(ctx);
    const text = 'killed mid-poll';
    // The first poll hangs, so the worker is killed while it holds the job with the taskId saved.
    stack.sim.script(text, { query: [{ delayMs: 60_000 }] });
    const child = await startChildWorker({
      ...stack.env,
      TEST_LOCK_DURATION_MS: String(FAST_STALLS.lockDuration),
      TEST_STALLED_INTERVAL_MS: String(FAST_STALLS.stalledInterval),
    });
    ctx.onCleanup(() => child.kill());
    const id = await stack.enqueue({ text });
    const held = await untilPollingActive(stack, id);
    const taskId = held.data.state?.taskId;

    await child.kill();
    await stack.startWorker(FAST_STALLS);

    const job = await stack.completed(id, 20_000);
    expect(job.returnvalue.taskId).toBe(taskId);
    expect(stack.sim.submitsFor(text)).toBe(1);
    expect(stack.sim.counters().tasksCreated).toBe(1);
  });

  it('a stalled job (lock lost while polling) is recovered by another worker, one submit', async () => {
    const stack = await DrawingStack.start(ctx);
    const text = 'stalls mid-poll';
    stack.sim.script(text, { query: [{ delayMs: 3000 }] });
    // Worker A never renews its lock: its job stalls while the slow poll is in flight.
    await stack.startWorker({ ...FAST_STALLS, skipLockRenewal: true });
    const id = await stack.enqueue({ text });
    await untilPollingActive(stack, id);
    await stack.startWorker(FAST_STALLS);

    const job = await stack.completed(id, 20_000);
    expect(job.returnvalue.images.length).toBe(1);
    expect(stack.sim.submitsFor(text)).toBe(1);
    expect(stack.sim.counters().tasksCreated).toBe(1);
  });

  it('a job replayed from any state with a taskId only polls (never submits again)', async () => {
    const stack = await DrawingStack.start(ctx, {
      simulator: { duration: { kind: 'fixed', ms: 60_000 } },
    });
    stack.sim.script('replayed', { query: [{ status: 0 }] });
    await stack.startWorker();
    const id = await stack.enqueue({ text: 'replayed' });
    const held = await waitFor(async () => (await stack.job(id))?.data.state?.taskId, {
      what: 'taskId saved',
    });
    // Whatever BullMQ does with the job next (retry, promote), the saved taskId decides.
    const job = await stack.job(id);
    await job?.promote().catch(() => undefined);
    await waitFor(async () => stack.sim.queriesFor(held) >= 2, { what: 'a second poll' });
    expect(stack.sim.submitsFor('replayed')).toBe(1);
  });
});
