import { atelierKeys, loadConfig } from '@atelier/shared';
import { AtelierWorker } from '@atelier/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { DrawingStack } from '../support/drawing-stack.ts';
import { type FrontBalancer, startFrontBalancer } from '../support/front-balancer.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

/** A drawing stack whose worker reaches the simulator through a load balancer. */
async function behindBalancer(env: Record<string, string>) {
  const stack = await DrawingStack.start(ctx);
  const balancer = await startFrontBalancer(ctx, stack.sim.url);
  const config = loadConfig({ ...stack.env, DRAWING_BASE_URL: balancer.url, ...env }, 'worker');
  const worker = await AtelierWorker.start({ config, logger: stack.logs.logger });
  ctx.onCleanup(() => worker.close(0));
  return { stack, balancer, worker };
}

async function haltRecord(stack: DrawingStack) {
  const json = await ctx.connection().get(atelierKeys(stack.prefix).halt('drawing'));
  return json ? (JSON.parse(json) as { code: string; message: string; at: number }) : undefined;
}

/** Waits until the job completed or the queue halted, whichever comes first. */
async function completedOrHalted(stack: DrawingStack, id: string) {
  return waitFor(
    async () => {
      if (await haltRecord(stack)) return 'halted';
      return (await (await stack.job(id))?.isCompleted()) ? 'completed' : undefined;
    },
    { timeoutMs: 15_000, what: `job ${id} to complete or the queue to halt` },
  );
}

const served = (balancer: FrontBalancer) =>
  [...balancer.answered.values()].reduce((total, n) => total + n, 0);

describe('404 and 3xx from the drawing endpoint (a load balancer mid-deploy, or a wrong URL)', () => {
  it('a few bare 404s and a redirect are retried as transient: the job completes, the queue never halts', async () => {
    // Count only: five in a row would halt; a good answer in between starts the count again.
    const { stack, balancer } = await behindBalancer({
      DRAWING_MISROUTE_STREAK: '5',
      DRAWING_MISROUTE_MS: '0',
    });
    balancer.script([404, 404, 302, 404]);
    const first = await stack.enqueue({ text: 'mid-deploy 1' });
    expect(await completedOrHalted(stack, first)).toBe('completed');

    balancer.script([404, 307, 404, 404]);
    const second = await stack.enqueue({ text: 'mid-deploy 2' });
    expect(await completedOrHalted(stack, second)).toBe('completed');

    expect(await stack.queue.isPaused()).toBe(false);
    expect(await haltRecord(stack)).toBeUndefined();
    const job = await stack.completed(first);
    expect(job.data.history?.map((h) => h.code)).toEqual([
      'HTTP_404',
      'HTTP_404',
      'HTTP_302',
      'HTTP_404',
    ]);
    expect(stack.sim.submitsFor('mid-deploy 1')).toBe(1);
    expect(stack.sim.submitsFor('mid-deploy 2')).toBe(1);
    expect(served(balancer)).toBe(8);
    expect(await stack.deadLetters.count()).toBe(0);
  });

  it('404 on every call halts the queue once the streak is long enough in count and in time; the job is kept', async () => {
    const { stack, balancer, worker } = await behindBalancer({
      DRAWING_MISROUTE_STREAK: '3',
      DRAWING_MISROUTE_MS: '300',
    });
    balancer.fallback = 404;
    const id = await stack.enqueue({ text: 'wrong url' });
    expect(await completedOrHalted(stack, id)).toBe('halted');

    const halt = await haltRecord(stack);
    expect(halt?.code).toBe('HTTP_404');
    expect(halt?.message).toContain('DRAWING_BASE_URL');
    await waitFor(() => stack.queue.isPaused(), { what: 'the queue to pause' });
    expect(served(balancer)).toBeGreaterThanOrEqual(3);
    expect(
      (halt?.at ?? 0) - (balancer.firstAnsweredAt ?? Number.POSITIVE_INFINITY),
    ).toBeGreaterThanOrEqual(300);
    expect(await stack.deadLetters.count()).toBe(0);
    expect(await (await stack.job(id))?.getState()).not.toBe('failed');
    expect(stack.sim.counters().tasksCreated).toBe(0);

    // The workers restarted with the right endpoint resume the queue; the kept job completes.
    await worker.close(0);
    const fixed = await AtelierWorker.start({ config: stack.config, logger: stack.logs.logger });
    ctx.onCleanup(() => fixed.close(0));
    await stack.completed(id);
    expect(await stack.queue.isPaused()).toBe(false);
    expect(stack.sim.submitsFor('wrong url')).toBe(1);
  });
});
