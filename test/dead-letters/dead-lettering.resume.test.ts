import { atelierKeys, QUEUE_NAMES } from '@atelier/shared';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('dead-lettering that stops after filing the dead letter', () => {
  it('is finished by the next run: the batch item settles dead, the batch completes, job.dead is scheduled once', async () => {
    const stack = await DrawingStack.start(ctx, {
      env: { ATELIER_CALLBACK_SECRET: 'callback-secret-for-tests' },
    });
    const callbacks = new Queue(QUEUE_NAMES.callbacks, {
      connection: ctx.connection(),
      prefix: stack.prefix,
    });
    ctx.onCleanup(() => callbacks.close());
    const redis = ctx.connection();
    const text = 'refused, settled late';
    stack.sim.script(text, { submit: [{ code: 202, msg: 'blocked' }] });
    const batchId = 'b-resume';
    const id = await stack.enqueueBatchItem(
      { text },
      { batchId, callbackUrl: 'https://example.com/hook' },
    );
    // The batch's result lines are unwritable (a key of the wrong type): settling the item
    // throws right after the dead letter is filed.
    const items = atelierKeys(stack.prefix).batch.items(batchId);
    await redis.set(items, 'not a hash');
    await stack.startWorker();

    await waitFor(
      async () =>
        (await stack.deadLetters.get(id)) && (await (await stack.job(id))?.getState()) !== 'active',
      { what: 'the dead letter filed and that run over' },
    );
    await redis.del(items);

    const entry = await stack.dead(id);
    expect(entry.code).toBe('202');
    await waitFor(async () => (await stack.batches.get(batchId))?.state === 'completed', {
      what: 'the batch to complete',
    });
    expect(await stack.batches.get(batchId)).toMatchObject({ completed: 0, dead: 1, pending: 0 });
    expect((await stack.batches.results(batchId, 0, 1))[0]).toMatchObject({
      state: 'dead',
      code: '202',
    });
    const delivery = await callbacks.getJob(`${id}.dead.0`);
    expect(delivery?.data.body).toMatchObject({ event: 'job.dead', id, error: { code: '202' } });
    expect(await callbacks.getJobCounts('waiting', 'prioritized', 'delayed')).toEqual({
      waiting: 1,
      prioritized: 0,
      delayed: 0,
    });
    expect(stack.sim.submitsFor(text)).toBe(1);
  });
});
