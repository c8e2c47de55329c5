import { afterEach, describe, expect, it } from 'vitest';
import { startChildWorker } from '../support/child-worker.ts';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('graceful shutdown of a worker process (SIGTERM)', () => {
  it('under load: stops taking work, finishes what it holds, exits 0; nothing lost, nothing submitted twice', async () => {
    const stack = await DrawingStack.start(ctx, { simulator: { faults: { delayMs: 150 } } });
    const env = { ...stack.env, DRAWING_CONCURRENCY: '10', ATELIER_SHUTDOWN_GRACE_MS: '10000' };
    const child = await startChildWorker(env, { entry: 'real' });
    ctx.onCleanup(() => child.kill());
    const ids = await Promise.all(
      Array.from({ length: 60 }, (_, i) => stack.enqueue({ text: `load ${i}` })),
    );
    await waitFor(async () => (await stack.queue.getCompletedCount()) >= 10, { what: '10 done' });

    const started = Date.now();
    expect(await child.terminate()).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    // It held nothing when it left: every job is done or still queued, none stuck active.
    expect(await stack.queue.getActiveCount()).toBe(0);
    expect(child.output()).toContain('stopping: finishing active jobs');

    await stack.startWorker();
    for (const id of ids) await stack.completed(id, 30_000);
    expect(stack.sim.counters().tasksCreated).toBe(60);
    for (let i = 0; i < 60; i++) expect(stack.sim.submitsFor(`load ${i}`)).toBe(1);
    expect(await stack.deadLetters.count()).toBe(0);
  });

  it('past the grace period, active jobs are handed back (no attempt used) and finished elsewhere', async () => {
    const stack = await DrawingStack.start(ctx);
    stack.sim.script('slow poll', { query: [{ delayMs: 20_000 }] });
    const child = await startChildWorker(
      { ...stack.env, ATELIER_SHUTDOWN_GRACE_MS: '500' },
      { entry: 'real' },
    );
    ctx.onCleanup(() => child.kill());
    const id = await stack.enqueue({ text: 'slow poll' });
    await waitFor(
      async () => {
        // The query reached the provider (held 20 s): the poll is in flight. Active with a
        // taskId alone also matches the submit's run just before it moves to the delayed set.
        if (stack.sim.counters().queries === 0) return false;
        const job = await stack.job(id);
        return job?.data.state?.taskId && (await job.getState()) === 'active';
      },
      { what: 'the job mid-poll' },
    );

    const started = Date.now();
    expect(await child.terminate()).toBe(0);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(child.output()).toContain('handing active jobs back');
    const job = await stack.job(id);
    expect(['waiting', 'prioritized']).toContain(await job?.getState());
    expect(job?.attemptsMade).toBe(0);

    await stack.startWorker();
    const done = await stack.completed(id);
    expect(done.returnvalue.taskId).toBe(job?.data.state?.taskId);
    expect(stack.sim.submitsFor('slow poll')).toBe(1);
  });
});
