import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BatchLedger } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { type CallbackReceiver, startCallbackReceiver } from '../callbacks/callback-receiver.ts';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { waitFor } from '../support/wait-for.ts';
import { type ApiHarness, DRAWING, startApi } from './api-harness.ts';

const CHILD = fileURLToPath(new URL('./fixtures/batch-enqueue-child.ts', import.meta.url));
const SECRET = 'whsec-batch-cut-5d1e';
const CALLBACK_ENV = { ATELIER_CALLBACK_SECRET: SECRET, ATELIER_CALLBACK_ALLOW_PRIVATE: 'true' };
/** The enqueuer's lease, and the API's sweep: short, so a test sees a cut batch closed soon. */
const LEASE_MS = 1000;
const SWEEP = { intervalMs: 100 };

let server: RedisServer | undefined;
let ctx = new RedisTestContext();
afterEach(async () => {
  // A test that failed while its Redis was down: bring it back for the cleanup.
  if (server && (server.process.exitCode !== null || server.process.signalCode !== null)) {
    server = await startRedisServer({ port: server.port, dir: server.dir });
  }
  await ctx.cleanup();
  await server?.stop();
  server = undefined;
  ctx = new RedisTestContext();
});

async function batchInfo(api: ApiHarness, id: string) {
  const res = await api.call({ method: 'GET', url: `/v1/batches/${id}` });
  expect(res.statusCode).toBe(200);
  return res.json();
}

async function resultLines(api: ApiHarness, id: string) {
  const res = await api.call({ method: 'GET', url: `/v1/batches/${id}/results` });
  expect(res.statusCode).toBe(200);
  return res.body
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

/** Indexes of `[first, last]` ranges. */
function indexesOf(ranges: Array<{ first: number; last: number }>): number[] {
  return ranges.flatMap(({ first, last }) =>
    Array.from({ length: last - first + 1 }, (_, i) => first + i),
  );
}

/** Which item indexes of the batch have a job in the drawing queue. */
async function queuedIndexes(api: ApiHarness, id: string, total: number): Promise<number[]> {
  const queued: number[] = [];
  for (let start = 0; start < total; start += 500) {
    const ids = Array.from({ length: Math.min(500, total - start) }, (_, i) => start + i);
    const jobs = await Promise.all(ids.map((i) => api.drawingQueue.getJob(`dr_${id}~${i}`)));
    jobs.forEach((job, i) => {
      if (job) queued.push(start + i);
    });
  }
  return queued;
}

function startChild(env: Record<string, string>): { child: ChildProcess; enqueued: () => number } {
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let enqueued = 0;
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    for (const match of output.matchAll(/enqueued (\d+)\n/g)) enqueued = Number(match[1]);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.once('exit', (code, signal) => {
    if (signal !== 'SIGKILL') output += `\n(exited ${code})`;
  });
  ctx.onCleanup(async () => child.kill('SIGKILL'));
  return { child, enqueued: () => enqueued };
}

describe('an unkeyed batch whose enqueue is cut off', () => {
  it('killed part-way: ends "incomplete" listing the items not queued, the rest run once, and batch.completed is called back', {
    timeout: 60_000,
  }, async () => {
    const hook: CallbackReceiver = await startCallbackReceiver({ secret: SECRET });
    ctx.onCleanup(() => hook.close());
    const stack = await DrawingStack.start(ctx, {
      env: { ...CALLBACK_ENV, ATELIER_WORKER_QUEUES: 'drawing,callbacks' },
    });
    const api = await startApi(ctx, {
      prefix: stack.prefix,
      env: CALLBACK_ENV,
      producer: { batchLeaseMs: LEASE_MS },
      api: { batchSweep: SWEEP },
    });
    await stack.startWorker();

    const TOTAL = 20_000;
    const { child, enqueued } = startChild({
      REDIS_URL: ctx.url,
      PREFIX: stack.prefix,
      ITEMS: String(TOTAL),
      CHUNK: '100',
      LEASE_MS: String(LEASE_MS),
      CALLBACK_URL: hook.url,
    });
    await waitFor(() => enqueued() >= 300, { what: 'the child to queue 300 items' });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const ledger = new BatchLedger(ctx.connection(), stack.prefix);
    const [id] = await ledger.list();
    expect(id).toBeDefined();
    const batchId = id as string;

    const ended = await waitFor(
      async () => {
        const info = await batchInfo(api, batchId);
        return info.state !== 'open' ? info : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 200, what: `batch ${batchId} to end` },
    );
    const queued = await queuedIndexes(api, batchId, TOTAL);
    const notQueued = indexesOf(ended.notQueued);
    expect(queued.length).toBeGreaterThanOrEqual(300);
    expect(queued.length).toBeLessThan(TOTAL);
    // Every item is either queued (and ran) or listed as not queued, never both.
    expect(notQueued.length + queued.length).toBe(TOTAL);
    expect(notQueued.filter((i) => queued.includes(i))).toEqual([]);
    expect(ended).toEqual({
      id: batchId,
      total: TOTAL,
      completed: queued.length,
      dead: 0,
      cancelled: 0,
      pending: 0,
      state: 'incomplete',
      enqueued: queued.length,
      notQueued: ended.notQueued,
      createdAt: expect.any(Number),
      completedAt: expect.any(Number),
      tenant: 'default',
    });

    const lines = await resultLines(api, batchId);
    expect(lines).toHaveLength(TOTAL);
    const states = new Map<string, number>();
    for (const line of lines) states.set(line.state, (states.get(line.state) ?? 0) + 1);
    expect(Object.fromEntries(states)).toEqual({
      completed: queued.length,
      not_queued: notQueued.length,
    });
    expect(lines[notQueued[0] as number]).toEqual({
      index: notQueued[0],
      jobId: `dr_${batchId}~${notQueued[0]}`,
      state: 'not_queued',
    });
    // Paid once per queued item, nothing for the others.
    expect(stack.sim.counters().submits).toBe(queued.length);

    const delivered = await waitFor(() => hook.accepted[0], {
      timeoutMs: 15_000,
      what: 'the batch.completed callback',
    });
    expect(JSON.parse(delivered.body)).toMatchObject({
      event: 'batch.completed',
      id: batchId,
      total: TOTAL,
      completed: queued.length,
      pending: 0,
      state: 'incomplete',
      notQueued: ended.notQueued,
    });
  });

  it('Redis cut mid-batch: the 503 names the batch, which is closed with the items not queued listed once Redis is back', {
    timeout: 60_000,
  }, async () => {
    server = await startRedisServer({ persistence: true, args: ['--appendfsync', 'always'] });
    const port = server.port;
    ctx = new RedisTestContext(server.url);
    const api = await startApi(ctx, {
      redisUrl: server.url,
      producer: { batchChunkSize: 100, batchLeaseMs: LEASE_MS },
      api: { batchSweep: SWEEP },
    });
    const connection = ctx.connection();
    connection.on('error', () => undefined); // Redis is killed under it
    const ledger = new BatchLedger(connection, api.prefix);
    const TOTAL = 20_000;
    const items = Array.from({ length: TOTAL }, (_, i) => ({ ...DRAWING, text: `item ${i}` }));
    const answer = api.call({ method: 'POST', url: '/v1/batches', payload: { items } });

    const id = await waitFor(
      async () => {
        const [batch] = await ledger.list();
        return batch && ((await ledger.get(batch))?.enqueued ?? 0) >= 300 ? batch : undefined;
      },
      { what: 'the batch to have 300 items queued' },
    );
    await server.kill();
    const res = await answer;
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toMatchObject({
      code: 'REDIS_UNAVAILABLE',
      details: { outcome: 'unknown', id },
    });

    server = await startRedisServer({
      port,
      dir: server.dir,
      persistence: true,
      args: ['--appendfsync', 'always'],
    });
    const closed = await waitFor(
      async () => {
        const info = await api.call({ method: 'GET', url: `/v1/batches/${id}` });
        return info.statusCode === 200 && info.json().notQueued ? info.json() : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `batch ${id} to be closed` },
    );
    const queued = await queuedIndexes(api, id, TOTAL);
    const notQueued = indexesOf(closed.notQueued);
    expect(queued.length).toBeGreaterThanOrEqual(300);
    expect(notQueued.length + queued.length).toBe(TOTAL);
    expect(notQueued.filter((i) => queued.includes(i))).toEqual([]);
    // No worker runs here: the queued items are pending, the batch open until they finish.
    expect(closed).toMatchObject({
      state: 'open',
      enqueued: queued.length,
      pending: queued.length,
    });
    const lines = await resultLines(api, id);
    expect(lines.filter((line) => line.state === 'not_queued')).toHaveLength(notQueued.length);
    expect(lines.filter((line) => line.state === 'pending')).toHaveLength(queued.length);
  });
});
