import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CallbackJobData, defaultJobOptions, QUEUE_NAMES } from '@atelier/shared';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { startEntryProcess } from '../support/entry-process.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('a callback delivery cut by shutdown', () => {
  it('is handed back to the queue with no attempt used', async () => {
    // A receiver that takes the request and never answers.
    const received: IncomingMessage[] = [];
    const receiver = createServer((request) => {
      received.push(request);
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    ctx.onCleanup(async () => {
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    });
    const prefix = ctx.prefix('cbcut');
    const worker = await startEntryProcess(
      'worker',
      {
        REDIS_URL: ctx.url,
        ATELIER_QUEUE_PREFIX: prefix,
        ATELIER_WORKER_QUEUES: 'callbacks',
        ATELIER_CALLBACK_SECRET: 'handback-test-callback-secret',
        ATELIER_CALLBACK_ALLOW_PRIVATE: 'true',
        ATELIER_CALLBACK_TIMEOUT_MS: '60000',
        ATELIER_SHUTDOWN_GRACE_MS: '500',
      },
      (line) => line.includes('"msg":"worker started"'),
    );
    ctx.onCleanup(() => worker.kill());
    const queue = new Queue<CallbackJobData>(QUEUE_NAMES.callbacks, {
      connection: ctx.connection(),
      prefix,
    });
    ctx.onCleanup(() => queue.close());
    const { port } = receiver.address() as AddressInfo;
    await queue.add(
      'job.completed',
      {
        url: `http://127.0.0.1:${port}/hook`,
        event: 'job.completed',
        body: { event: 'job.completed', id: 'dr_cut' },
      },
      { ...defaultJobOptions(QUEUE_NAMES.callbacks), jobId: 'dr_cut.completed.0' },
    );
    await waitFor(() => received.length === 1, { what: 'the delivery under way' });

    const stopped = await worker.stopWithin(5500);

    expect(stopped?.code).toBe(0);
    const job = await queue.getJob('dr_cut.completed.0');
    expect(['waiting', 'prioritized']).toContain(await job?.getState());
    expect(job?.attemptsMade).toBe(0);
  });
});
