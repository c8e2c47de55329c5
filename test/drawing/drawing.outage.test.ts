import { afterEach, describe, expect, it } from 'vitest';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('provider maintenance (500/501)', () => {
  it('a 501 window during 200 jobs: all complete after it, none dead, attempts kept, submits not hammered', async () => {
    const windowMs = 3000;
    const backoffMs = 500;
    const stack = await DrawingStack.start(ctx, {
      env: {
        DRAWING_MAINTENANCE_BACKOFF_MS: String(backoffMs),
        DRAWING_OUTAGE_STREAK: '3',
        DRAWING_CONCURRENCY: '50',
      },
    });
    const started = Date.now();
    stack.sim.setFaults({ maintenance: { code: 501, untilEpochMs: started + windowMs } });
    const ids = await Promise.all(
      Array.from({ length: 200 }, (_, i) => stack.enqueue({ text: `maintenance ${i}` })),
    );
    await stack.startWorker();

    await waitFor(async () => (await stack.queue.getCompletedCount()) === 200, {
      timeoutMs: 45_000,
      what: 'all 200 jobs to complete',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(windowMs);
    expect(await stack.deadLetters.count()).toBe(0);
    for (const id of ids) {
      const job = await stack.job(id);
      // Maintenance waits consume no attempt: every job completed on its first one.
      expect(job?.attemptsMade ?? 99).toBeLessThanOrEqual(1);
      expect((job?.data.history ?? []).every((h) => h.code === '501')).toBe(true);
    }
    const counters = stack.sim.counters();
    expect(counters.tasksCreated).toBe(200);
    // Without a window every job would retry every backoff: 200 × (3000 / 500) ≈ 1200 calls.
    // With it: the first in-flight wave (≤ concurrency), then about one probe per backoff.
    const refused = counters.faults.maintenance;
    expect(refused).toBeGreaterThanOrEqual(3);
    expect(refused).toBeLessThanOrEqual(50 + 2 * Math.ceil(windowMs / backoffMs) + 10);
  });

  it('a single 500 delays only that job for the maintenance backoff, without using an attempt', async () => {
    const stack = await DrawingStack.start(ctx, { env: { DRAWING_MAINTENANCE_BACKOFF_MS: '400' } });
    stack.sim.script('one 500', { submit: [{ code: 500 }] });
    await stack.startWorker();
    const started = Date.now();
    const id = await stack.enqueue({ text: 'one 500' });
    const job = await stack.completed(id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(job.attemptsMade).toBeLessThanOrEqual(1);
    expect(job.data.history?.map((h) => h.code)).toEqual(['500']);
    expect(await stack.deadLetters.count()).toBe(0);
  });

  it('maintenance that outlasts DRAWING_MAINTENANCE_MAX_MS dead-letters the job with the code', async () => {
    const stack = await DrawingStack.start(ctx, {
      env: {
        DRAWING_MAINTENANCE_BACKOFF_MS: '100',
        DRAWING_MAINTENANCE_MAX_MS: '600',
        DRAWING_OUTAGE_STREAK: '1000',
      },
    });
    stack.sim.setFaults({ maintenance: { code: 500, untilEpochMs: Date.now() + 60_000 } });
    await stack.startWorker();
    const id = await stack.enqueue({ text: 'endless maintenance' });
    const entry = await stack.dead(id);
    expect(entry.code).toBe('500');
    expect(entry.message).toContain('maintenance');
  });
});
