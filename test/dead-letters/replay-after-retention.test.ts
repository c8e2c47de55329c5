import { createProducer } from '@atelier/producer';
import { afterEach, describe, expect, it } from 'vitest';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('a drawing replayed from its dead letter after retention removed its job', () => {
  it('polls its task against a deadline anchored on persisted times: POLL_TIMEOUT again, one submit', async () => {
    const stack = await DrawingStack.start(ctx, {
      simulator: { duration: { kind: 'fixed', ms: 600_000 } },
      env: {
        DRAWING_POLL_DEADLINE_MS: '1500',
        DRAWING_POLL_FIRST_MS: '200',
        DRAWING_POLL_INTERVAL_MS: '100',
        DRAWING_POLL_MAX_INTERVAL_MS: '400',
      },
    });
    await stack.startWorker();
    const producer = createProducer({ connection: ctx.connection(), prefix: stack.prefix });
    ctx.onCleanup(() => producer.close());
    const text = 'replayed after retention';
    const { id } = await producer.enqueueDrawing({ text, style: '油画', resolution: '1024*1024' });
    const first = await stack.dead(id);
    expect(first.code).toBe('POLL_TIMEOUT');
    const submitted = await stack.job(id);
    expect(first.submittedAt).toBe(submitted?.data.state?.submittedAt);
    await submitted?.remove();

    const replayedAt = Date.now();
    await producer.replayDeadLetter(id);
    const second = await stack.dead(id, 10_000);
    expect(second.code).toBe('POLL_TIMEOUT');
    expect(second.taskId).toBe(first.taskId);
    expect(second.submittedAt).toBe(first.submittedAt);
    const job = await stack.job(id);
    expect(job?.data.state?.submittedAt).toBe(first.submittedAt);
    expect(job?.data.state?.resumedAt).toBeGreaterThanOrEqual(replayedAt);
    // The deadline ran from the replay, once: the replayed job died about 1.5 s after it.
    expect((job?.finishedOn ?? 0) - replayedAt).toBeLessThan(5000);
    expect(stack.sim.submitsFor(text)).toBe(1);
  });
});
