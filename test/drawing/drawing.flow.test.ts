import { afterEach, describe, expect, it } from 'vitest';
import { DrawingStack, TASK } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('drawing jobs: submit then poll', () => {
  it('pending×N then done: completes with the images, one submit, N+1 queries', async () => {
    const stack = await DrawingStack.start(ctx);
    const text = 'pending four times';
    stack.sim.script(text, { query: [{ status: 0 }, { status: 0 }, { status: 0 }, { status: 0 }] });
    await stack.startWorker();
    const id = await stack.enqueue({ text, num: 2 });

    const job = await stack.completed(id);
    const result = job.returnvalue;
    expect(result.taskId).toMatch(/^\d{19}$/);
    expect(result.images).toHaveLength(2);
    expect(result.polls).toBe(5);
    expect(result.finishedAt).toBeGreaterThanOrEqual(result.submittedAt);
    expect(typeof result.createTime).toBe('string');
    expect(stack.sim.submitsFor(text)).toBe(1);
    expect(stack.sim.queriesFor(result.taskId)).toBe(5);
    expect(job.attemptsMade).toBeLessThanOrEqual(1);
    // The taskId was persisted in job data.
    expect(job.data.state?.taskId).toBe(result.taskId);
  });

  it('a pending task waits in the delayed set (no worker slot held) until its next poll', async () => {
    const stack = await DrawingStack.start(ctx, {
      simulator: { duration: { kind: 'fixed', ms: 1500 } },
      env: {
        DRAWING_POLL_FIRST_MS: '600',
        DRAWING_POLL_INTERVAL_MS: '400',
        DRAWING_POLL_MAX_INTERVAL_MS: '800',
      },
    });
    await stack.startWorker();
    const id = await stack.enqueue({ text: 'slow one' });
    const waiting = await import('../support/wait-for.ts').then(({ waitFor }) =>
      waitFor(
        async () => ((await (await stack.job(id))?.getState()) === 'delayed' ? true : undefined),
        {
          what: 'job delayed',
        },
      ),
    );
    expect(waiting).toBe(true);
    expect(await stack.queue.getActiveCount()).toBe(0);
    const job = await stack.completed(id);
    expect(job.returnvalue.polls).toBeGreaterThanOrEqual(1);
    expect(stack.sim.submitsFor('slow one')).toBe(1);
  });

  it('keeps every digit of a taskId the provider sends as a bare JSON number', async () => {
    const stack = await DrawingStack.start(ctx, {
      simulator: { numericTaskIds: true, taskIdDigits: 24 },
    });
    await stack.startWorker();
    const id = await stack.enqueue({ text: 'big ids' });
    const job = await stack.completed(id);
    expect(job.returnvalue.taskId).toMatch(/^\d{24}$/);
    expect(stack.sim.queriesFor(job.returnvalue.taskId)).toBeGreaterThan(0);
  });

  it('runs a hundred jobs concurrently, each submitted exactly once', async () => {
    const stack = await DrawingStack.start(ctx, {
      simulator: { duration: { kind: 'uniform', minMs: 0, maxMs: 300 } },
    });
    await stack.startWorker();
    const ids = await Promise.all(
      Array.from({ length: 100 }, (_, i) => stack.enqueue({ text: `${TASK.text} ${i}` })),
    );
    for (const id of ids) await stack.completed(id, 30_000);
    expect(stack.sim.counters().tasksCreated).toBe(100);
    for (let i = 0; i < 100; i++) expect(stack.sim.submitsFor(`${TASK.text} ${i}`)).toBe(1);
  });
});
