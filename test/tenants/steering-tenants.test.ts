import { createProducer } from '@atelier/producer';
import { atelierKeys, createLogger, usageDay } from '@atelier/shared';
import { FairQueue } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { DrawingStack, TASK } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

async function setup(options: { fairShare?: boolean } = {}) {
  const stack = await DrawingStack.start(ctx);
  const root = createProducer({
    redisUrl: ctx.url,
    prefix: stack.prefix,
    quotas: { byTenant: { acme: 100 }, fallback: undefined },
    fairShare: options.fairShare ?? false,
    logger: createLogger({ name: 't', level: 'warn' }),
  });
  ctx.onCleanup(() => root.close());
  const acme = root.forTenant('acme');
  const today = usageDay(Date.now());
  const images = async () => (await acme.usage({ from: today, to: today })).days[0]?.images;
  return { stack, root, acme, images };
}

const items = (n: number, num: number) =>
  Array.from({ length: n }, (_, i) => ({ ...TASK, text: `item ${i}`, num }));

describe('cancelled work gives its images back, where an item ends unpaid', () => {
  it('a cancelled job and the waiting items of a cancelled batch', async () => {
    const { root, acme, images } = await setup();
    const single = await acme.enqueueDrawing({ ...TASK, num: 3 });
    const batch = await acme.createBatch(items(5, 2));
    expect(await images()).toBe(13);

    expect((await acme.cancelJob(single.id)).state).toBe('cancelled');
    expect(await images()).toBe(10);
    await acme.cancelBatch(batch.id);
    await waitFor(
      async () => ((await acme.getBatch(batch.id)).state === 'cancelled' ? true : undefined),
      { what: 'the batch to end cancelled' },
    );
    expect(await images()).toBe(0);
    // Another tenant cannot cancel them (its 404 says nothing exists).
    await expect(root.forTenant('beta').cancelJob(single.id)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('fair share admits nothing of a paused batch', () => {
  it('its parked items wait in the backlog until the resume; the rest of it is parked by the worker', {
    timeout: 60_000,
  }, async () => {
    const { stack, acme, root } = await setup({ fairShare: true });
    const fair = new FairQueue(ctx.connection(), stack.prefix, stack.queue);
    const redis = ctx.connection();
    const keys = atelierKeys(stack.prefix).batch;
    // No worker registered: a window of 50; the last 10 items wait in acme's backlog.
    const { id } = await acme.createBatch(items(60, 1));
    expect(await fair.parkedCount()).toBe(10);
    await acme.pauseBatch(id);
    expect(await redis.sismember(keys.paused, id)).toBe(1);

    await stack.startWorker();
    // The 50 admitted items reach their submit and wait for the resume (batch steering).
    await waitFor(async () => ((await redis.scard(keys.parked(id))) === 50 ? true : undefined), {
      timeoutMs: 30_000,
      what: 'the admitted items to wait for the resume',
    });
    // None of the 10 in the backlog was admitted meanwhile.
    expect(await fair.parkedCount()).toBe(10);
    expect(await fair.hasBacklog()).toBe(true);

    await root.resumeBatch(id);
    expect(await redis.sismember(keys.paused, id)).toBe(0);
    await waitFor(
      async () => ((await acme.getBatch(id)).state === 'completed' ? true : undefined),
      { timeoutMs: 30_000, what: 'every item after the resume' },
    );
    expect(await fair.hasBacklog()).toBe(false);
  });

  it('a cancel takes a paused batch out of the paused set: its parked items are ended, not held', async () => {
    const { stack, acme } = await setup({ fairShare: true });
    const redis = ctx.connection();
    const { id } = await acme.createBatch(items(60, 1));
    await acme.pauseBatch(id);
    await acme.cancelBatch(id);
    expect(await redis.sismember(atelierKeys(stack.prefix).batch.paused, id)).toBe(0);
    await waitFor(
      async () => ((await acme.getBatch(id)).state === 'cancelled' ? true : undefined),
      { what: 'the batch to end cancelled' },
    );
    expect((await acme.getBatch(id)).cancelled).toBe(60);
  });
});
