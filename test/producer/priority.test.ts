import { type DrawingJobData, POLL_PRIORITY, QUEUE_NAMES } from '@atelier/shared';
import { Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';
import { DRAWING, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('priorities', () => {
  it('serves polls first, then single requests, then batch items, whatever the arrival order', async () => {
    const api = await startApi(ctx);
    await api.drawingQueue.pause();

    const batch = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: { items: Array.from({ length: 5 }, (_, i) => ({ ...DRAWING, text: `batch ${i}` })) },
    });
    expect(batch.statusCode).toBe(202);
    const singles: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await api.call({
        method: 'POST',
        url: '/v1/drawings',
        payload: { ...DRAWING, text: `single ${i}` },
      });
      singles.push(res.json().id);
    }
    // A drawing waiting for its next poll comes back with the poll priority.
    const poll = await api.drawingQueue.add(
      'drawing',
      { kind: 'drawing', task: { ...DRAWING, num: 1 }, meta: { enqueuedAt: Date.now() } },
      { jobId: 'dr_poll', priority: POLL_PRIORITY },
    );

    const order: string[] = [];
    const w = new Worker<DrawingJobData>(
      QUEUE_NAMES.drawing,
      async (job) => {
        order.push(job.id as string);
      },
      { connection: ctx.connection(), prefix: api.prefix, concurrency: 1 },
    );
    ctx.onCleanup(() => w.close(true));
    await api.drawingQueue.resume();
    await waitFor(() => order.length === 9, { what: 'all jobs processed' });

    expect(order[0]).toBe(poll.id);
    expect(order.slice(1, 4)).toEqual(singles);
    expect(order.slice(4).every((id) => id.startsWith(`dr_${batch.json().id}~`))).toBe(true);
  });

  it('lets a batch or an item ask for another priority', async () => {
    const api = await startApi(ctx);
    const res = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: { priority: 50, items: [DRAWING, { ...DRAWING, priority: 900 }] },
    });
    const id = res.json().id;
    expect((await api.drawingQueue.getJob(`dr_${id}~0`))?.priority).toBe(51);
    expect((await api.drawingQueue.getJob(`dr_${id}~1`))?.priority).toBe(901);
  });
});
