import { createProducer, type Producer } from '@atelier/producer';
import { createLogger } from '@atelier/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { startChildWorker } from '../support/child-worker.ts';
import { DrawingStack, TASK } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const A_ITEMS = 60;
const B_ITEMS = 10;

/**
 * Tenant A queues a 60-item batch, then tenant B a 10-item one, on two worker processes of 2
 * slots each; every provider call takes 100 ms, so each item holds a slot about 200 ms (a
 * submit, then its poll). Returns how many of A's items had completed when B's last did.
 */
async function run(fairShare: boolean): Promise<{ aDoneWhenBDone: number; aTotal: number }> {
  const stack = await DrawingStack.start(ctx, {
    simulator: { faults: { delayMs: 100 } },
    env: { DRAWING_CONCURRENCY: '2' },
  });
  for (let i = 0; i < 2; i++) {
    const worker = await startChildWorker(stack.env);
    ctx.onCleanup(() => worker.kill());
  }
  const producer = createProducer({
    redisUrl: ctx.url,
    prefix: stack.prefix,
    fairShare,
    logger: createLogger({ name: 'fair-test', level: 'warn' }),
  });
  ctx.onCleanup(() => producer.close());
  const batch = (p: Producer, n: number, label: string) =>
    p.createBatch(Array.from({ length: n }, (_, i) => ({ ...TASK, text: `${label} ${i}` })));

  const a = await batch(producer.forTenant('acme'), A_ITEMS, 'a');
  // B comes once A's first items are under way.
  await waitFor(async () => ((await producer.getBatch(a.id)).completed >= 2 ? true : undefined), {
    what: "A's first items",
  });
  const b = await batch(producer.forTenant('beta'), B_ITEMS, 'b');
  for (const id of [a.id, b.id]) {
    await waitFor(
      async () => ((await producer.getBatch(id)).state === 'completed' ? true : undefined),
      { timeoutMs: 60_000, what: `batch ${id} to complete` },
    );
  }
  const finished = async (batchId: string, n: number) => {
    const jobs = await Promise.all(
      Array.from({ length: n }, (_, i) => stack.job(`dr_${batchId}~${i}`)),
    );
    return jobs.map((job) => job?.finishedOn ?? Number.POSITIVE_INFINITY);
  };
  const bDoneAt = Math.max(...(await finished(b.id, B_ITEMS)));
  const aFinished = await finished(a.id, A_ITEMS);
  return {
    aDoneWhenBDone: aFinished.filter((at) => at <= bDoneAt).length,
    aTotal: aFinished.filter(Number.isFinite).length,
  };
}

describe('fair share between tenants, across two worker processes', () => {
  it("B's small batch, queued behind A's large one, is served in turn: done long before A's", {
    timeout: 120_000,
  }, async () => {
    const { aDoneWhenBDone, aTotal } = await run(true);
    expect(aTotal).toBe(A_ITEMS);
    // In turn: about as many of A's items as B's (plus those admitted before B came).
    expect(aDoneWhenBDone).toBeLessThan(A_ITEMS / 2);
  });

  it('without fair share (first in, first out) B waits for all of A', {
    timeout: 120_000,
  }, async () => {
    const { aDoneWhenBDone, aTotal } = await run(false);
    expect(aTotal).toBe(A_ITEMS);
    expect(aDoneWhenBDone).toBeGreaterThan(A_ITEMS * 0.9);
  });
});
