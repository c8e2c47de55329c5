import { createProducer } from '@atelier/producer';
import {
  createLogger,
  DEFAULT_PRIORITY,
  defaultJobOptions,
  toBullmqPriority,
} from '@atelier/shared';
import { FairQueue, PARK_DELAY_MS } from '@atelier/store';
import { AtelierWorker } from '@atelier/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { DrawingStack, TASK } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const LOW = toBullmqPriority(DEFAULT_PRIORITY.batchItem);

async function setup() {
  const stack = await DrawingStack.start(ctx);
  const fair = new FairQueue(ctx.connection(), stack.prefix, stack.queue);
  const startWorker = async (timings: Record<string, number>) => {
    const worker = await AtelierWorker.start({
      config: stack.config,
      logger: stack.logs.logger,
      fairShareTimings: { busyTickMs: 50, idleTickMs: 50, ...timings },
    });
    ctx.onCleanup(() => worker.close(0));
    return worker;
  };
  return { stack, fair, startWorker };
}

/** A drawing added parked, as the producer adds one waiting for its turn. */
async function addParked(stack: DrawingStack, id: string) {
  await stack.queue.add(
    'drawing',
    { kind: 'drawing', task: TASK, meta: { enqueuedAt: Date.now(), tenant: 'acme' } },
    { ...defaultJobOptions('drawing'), jobId: id, priority: LOW, delay: PARK_DELAY_MS },
  );
}

describe('fair share survives a dispatcher or an enqueuer dying part-way', () => {
  it('ids a dispatcher took and never promoted (it died) are promoted by another', async () => {
    const { stack, fair, startWorker } = await setup();
    const producer = createProducer({
      redisUrl: ctx.url,
      prefix: stack.prefix,
      fairShare: true,
      logger: createLogger({ name: 't', level: 'warn' }),
    });
    ctx.onCleanup(() => producer.close());
    // No worker registered: a window of 50; the other 10 items wait in acme's backlog.
    const { id } = await producer
      .forTenant('acme')
      .createBatch(Array.from({ length: 60 }, (_, i) => ({ ...TASK, text: `item ${i}` })));
    expect(await fair.parkedCount()).toBe(10);
    // A dispatcher of a process that dies right after taking them: admitting, never promoted.
    await fair.register('doomed', 1000, 60_000);
    const taken = await fair.pick({}, 100);
    expect(taken.ids).toHaveLength(10);
    await fair.unregister('doomed');

    await startWorker({ staleAfterMs: 300 });
    await waitFor(
      async () => ((await producer.getBatch(id)).state === 'completed' ? true : undefined),
      { timeoutMs: 30_000, what: 'every item, the ten taken by the dead dispatcher included' },
    );
    expect(await fair.parkedCount()).toBe(0);
    expect(await fair.stale(Date.now())).toEqual([]);
    expect(stack.logs.text()).toContain(
      'promoting ids another dispatcher took and did not promote',
    );
  });

  it('an id whose add was still in flight when its turn came is promoted once the job lands', async () => {
    const { stack, fair, startWorker } = await setup();
    // Listed first (as the producer does), added later.
    await fair.register('full', 1, 60_000);
    await stack.queue.add(
      'drawing',
      { kind: 'drawing', task: TASK, meta: { enqueuedAt: 0 } },
      {
        ...defaultJobOptions('drawing'),
        jobId: 'dr_filler',
        priority: LOW,
      },
    );
    expect(await fair.route('acme', LOW, 1, { kind: 'job', id: 'dr_late@acme' })).toBe(0);
    await fair.unregister('full');
    await startWorker({ staleAfterMs: 200 });
    await waitFor(async () => ((await fair.awaiting()).length === 1 ? true : undefined), {
      what: 'the id to await its add',
    });
    await addParked(stack, 'dr_late@acme');
    await stack.completed('dr_late@acme', 15_000);
    expect(await fair.awaiting()).toEqual([]);
  });

  it('a parked job no backlog lists (its listing lost) is found and promoted', async () => {
    const { stack, fair, startWorker } = await setup();
    await addParked(stack, 'dr_orphan@acme');
    expect(await fair.parkedCount()).toBe(1);
    await startWorker({ orphanSweepMs: 100, orphanAfterMs: 0 });
    await stack.completed('dr_orphan@acme', 15_000);
    expect(stack.logs.text()).toContain('parked jobs no backlog listed are promoted');
  });
});
