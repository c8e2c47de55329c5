import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { batchItemJobId, createProducer, type Producer } from '@atelier/producer';
import { atelierKeys, createLogger, QUEUE_NAMES, usageDay } from '@atelier/shared';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/wait-for.ts';

const CHILD = fileURLToPath(new URL('./fixtures/enqueue-child.ts', import.meta.url));
const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

/** Past every reservation's deadline (a job's 2 minutes; a batch's two leases). */
const LATER_MS = 10 * 60_000;

interface Child {
  child: ChildProcess;
  output: () => string;
  enqueued: () => number;
  kill(): Promise<void>;
}

function startChild(env: Record<string, string>): Child {
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  ctx.onCleanup(async () => child.kill('SIGKILL'));
  return {
    child,
    output: () => output,
    enqueued: () =>
      Math.max(0, ...[...output.matchAll(/enqueued (\d+)\n/g)].map((m) => Number(m[1]))),
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function setup() {
  const prefix = ctx.prefix('crash');
  const port = Number(new URL(ctx.url).port);
  const proxy = await TcpProxy.start({ port });
  ctx.onCleanup(() => proxy.close());
  const logger = createLogger({ name: 't', level: 'warn' });
  // The API's sweep, run by hand: `later` is past every deadline.
  const later = createProducer({
    redisUrl: ctx.url,
    prefix,
    logger,
    clock: () => Date.now() + LATER_MS,
    // As the child's: a batch idle this long with its lease free was abandoned.
    batchLeaseMs: 500,
  });
  ctx.onCleanup(() => later.close());
  const queue = new Queue(QUEUE_NAMES.drawing, { connection: ctx.connection(), prefix });
  ctx.onCleanup(() => queue.close());
  const acme = later.forTenant('acme');
  const today = usageDay(Date.now());
  const usage = async () => (await acme.usage({ from: today, to: today })).days[0];
  const env = (extra: Record<string, string>) => ({
    REDIS_URL: proxy.redisUrl,
    PREFIX: prefix,
    TENANT: 'acme',
    QUOTA: '1000',
    ...extra,
  });
  return { proxy, later, queue, usage, env };
}

/** Kills the child the moment it sends what `match` accepts (held, never delivered). */
async function killWhen(proxy: TcpProxy, child: Child, what: string): Promise<void> {
  await waitFor(() => (proxy.stalled ? true : undefined), {
    timeoutMs: 15_000,
    what: `${what} (child output: ${child.output()})`,
  });
  await child.kill();
}

describe('a crash between reserving usage and queueing the work gives the reservation back', () => {
  it('a drawing: killed after its reservation, before its add; given back once past its deadline', async () => {
    const { proxy, later, queue, usage, env } = await setup();
    // The add is BullMQ's script, the only command naming the queue's marker key.
    proxy.stallWhen((bytes) => bytes.includes(':drawing:marker'));
    const child = startChild(env({ WHAT: 'drawing', KEY: 'crash-1', NUM: '3' }));
    await killWhen(proxy, child, 'the add to be sent');
    expect(await queue.getJob('dr_crash-1@acme')).toBeUndefined();
    expect(await usage()).toMatchObject({ images: 3, jobs: 1 });

    expect(await later.settleReservations()).toBe(1);
    expect(await usage()).toMatchObject({ images: 0, jobs: 0 });
    // Settled once: a second sweep finds nothing.
    expect(await later.settleReservations()).toBe(0);
  });

  it('a drawing killed after its add, before its confirmation: the reservation stands', async () => {
    const { proxy, later, queue, usage, env } = await setup();
    proxy.stallWhen((bytes) => /zrem/i.test(bytes) && bytes.includes(':usage:pending'));
    const child = startChild(env({ WHAT: 'drawing', KEY: 'crash-2', NUM: '2' }));
    await killWhen(proxy, child, 'the confirmation to be sent');
    expect(await queue.getJob('dr_crash-2@acme')).toBeDefined();
    expect(await later.settleReservations()).toBe(0);
    expect(await usage()).toMatchObject({ images: 2, jobs: 1 });
  });

  it('a batch killed after its reservation, before its record: given back whole', async () => {
    const { proxy, later, usage, env } = await setup();
    // The record's creation names the open-batch set (a read of the record does not).
    proxy.stallWhen((bytes) => bytes.includes(':sys:batches:open'));
    const child = startChild(env({ WHAT: 'batch', ITEMS: '30' }));
    await killWhen(proxy, child, 'the batch record to be sent');
    // 30 items drawing 1, 2, 3, 1, 2, 3… images.
    expect(await usage()).toMatchObject({ images: 60, jobs: 30 });
    expect(await later.settleReservations()).toBe(1);
    expect(await usage()).toMatchObject({ images: 0, jobs: 0 });
  });

  it('a batch killed part-way: once closed, the images of the items never queued are given back', {
    timeout: 60_000,
  }, async () => {
    const { proxy, later, queue, usage, env } = await setup();
    // Killed as it sends its fourth chunk (items 30 to 39): items 0 to 29 are in the queue.
    proxy.stallWhen((bytes) => /~30[^0-9]/.test(bytes));
    const child = startChild(env({ WHAT: 'batch', ITEMS: '90', CHUNK: '10', LEASE_MS: '500' }));
    await killWhen(proxy, child, 'the fourth chunk to be sent');
    expect(await usage()).toMatchObject({ images: 180, jobs: 90 });

    const closed = await waitFor(
      async () => ((await later.closeAbandonedBatches()).length > 0 ? true : undefined),
      { timeoutMs: 15_000, what: 'the cut-off batch to be closed' },
    );
    expect(closed).toBe(true);
    expect(await later.settleReservations()).toBe(1);
    const [batchId] = await batchIds(later);
    const { enqueued, notQueued = [] } = await later.getBatch(batchId as string);
    expect(enqueued).toBe(30);
    expect(notQueued).toEqual([{ first: 30, last: 89 }]);
    // Exactly the images of the items in the queue stay counted.
    let images = 0;
    for (let i = 0; i < 90; i++) {
      const listed = notQueued.some((r) => i >= r.first && i <= r.last);
      const job = await queue.getJob(batchItemJobId(batchId as string, i));
      expect(job !== undefined, `item ${i}`).toBe(!listed);
      if (!listed) images += (i % 3) + 1;
    }
    expect(await usage()).toMatchObject({ images, jobs: enqueued });
  });
});

/** The ids of the batches recorded (the ledger's index). */
async function batchIds(producer: Producer): Promise<string[]> {
  return producer.redis.zrange(atelierKeys(producer.prefix).batch.index, '0', '-1');
}
