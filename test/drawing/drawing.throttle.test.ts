import { atelierKeys, loadConfig } from '@atelier/shared';
import { AtelierWorker } from '@atelier/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('throttling and configuration errors are queue-wide, not per job', () => {
  it.each(['huawei', 'aliyun'] as const)(
    'a %s 429 storm slows the queue down and consumes no attempts',
    async (style) => {
      const stack = await DrawingStack.start(ctx, {
        simulator: { faults: { throttle: { qps: 10, style } } },
        env: { DRAWING_THROTTLE_MS: '1000' },
      });
      const ids = await Promise.all(
        Array.from({ length: 30 }, (_, i) => stack.enqueue({ text: `storm ${i}` })),
      );
      await stack.startWorker();
      await waitFor(async () => (await stack.queue.getCompletedCount()) === 30, {
        timeoutMs: 45_000,
        what: '30 jobs',
      });

      expect(stack.sim.counters().faults.throttled).toBeGreaterThan(0);
      expect(stack.sim.counters().tasksCreated).toBe(30);
      expect(await stack.deadLetters.count()).toBe(0);
      for (const id of ids) {
        const job = await stack.job(id);
        expect(job?.attemptsMade ?? 99).toBeLessThanOrEqual(1);
        expect(job?.data.history ?? []).toEqual([]);
      }
    },
  );

  it('bad credentials pause the queue and lose nothing; the right ones resume it', async () => {
    const stack = await DrawingStack.start(ctx, {
      simulator: { auth: { mode: 'apig', apps: { 'app-key': 'the-right-secret' } } },
      env: {
        DRAWING_AUTH_MODE: 'apig',
        DRAWING_APP_KEY: 'app-key',
        DRAWING_APP_SECRET: 'a-wrong-secret',
      },
    });
    const ids = await Promise.all(
      Array.from({ length: 5 }, (_, i) => stack.enqueue({ text: `creds ${i}` })),
    );
    const wrong = await stack.startWorker();
    await waitFor(() => stack.queue.isPaused(), { what: 'the queue to pause' });
    const halt = await ctx.connection().get(atelierKeys(stack.prefix).halt('drawing'));
    expect(JSON.parse(halt ?? '{}')).toMatchObject({ code: 'APIG.0303' });
    expect(stack.logs.text()).toContain('PAUSED');
    expect(stack.logs.text()).not.toContain('a-wrong-secret');
    await wrong.close(5000);

    expect(await stack.deadLetters.count()).toBe(0);
    expect(stack.sim.counters().tasksCreated).toBe(0);
    for (const id of ids)
      expect(['waiting', 'paused', 'delayed', 'prioritized']).toContain(
        await (await stack.job(id))?.getState(),
      );

    const fixed = loadConfig({ ...stack.env, DRAWING_APP_SECRET: 'the-right-secret' }, 'worker');
    const right = await AtelierWorker.start({ config: fixed, logger: stack.logs.logger });
    ctx.onCleanup(() => right.close(0));
    for (const id of ids) await stack.completed(id);
    expect(await stack.queue.isPaused()).toBe(false);
    expect(stack.sim.counters().tasksCreated).toBe(5);
  });

  it('a used-up quota pauses the queue instead of dead-lettering every job', async () => {
    const stack = await DrawingStack.start(ctx, {
      simulator: { faults: { quota: 'huawei-used-up' } },
    });
    await Promise.all(Array.from({ length: 3 }, (_, i) => stack.enqueue({ text: `quota ${i}` })));
    await stack.startWorker();
    await waitFor(() => stack.queue.isPaused(), { what: 'the queue to pause' });
    // Every job is kept, none dead: the ones in flight when the queue paused settle back too.
    await waitFor(async () => (await stack.queue.count()) === 3, {
      what: 'all 3 jobs queued again',
    });
    expect(await stack.deadLetters.count()).toBe(0);
  });
});
