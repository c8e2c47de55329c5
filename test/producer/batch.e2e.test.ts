import { type CallbackJobData, QUEUE_NAMES, verifyCallback } from '@atelier/shared';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { type CallbackReceiver, startCallbackReceiver } from '../callbacks/callback-receiver.ts';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';
import { type ApiHarness, DRAWING, startApi } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const SECRET = 'whsec-batch-e2e-3c9a41f0';
const TOTAL = 10_000;
/** The simulator answers code 202 (moderation, terminal) to any text containing it. */
const BLOCKED_WORD = '禁止词';
/** Every 50th item (from index 7) is blocked: 200 dead letters, 9,800 completions. */
const isBlocked = (index: number) => index % 50 === 7;
const DEAD = Array.from({ length: TOTAL }, (_, i) => i).filter(isBlocked).length;
const COMPLETED = TOTAL - DEAD;
/** Items that also carry their own callbackUrl: one that completes, one that dies. */
const HOOKED_DONE = 3;
const HOOKED_DEAD = 7;

const textOf = (index: number) =>
  isBlocked(index) ? `item ${index} ${BLOCKED_WORD}` : `item ${index}`;

async function receiver(script: Parameters<typeof startCallbackReceiver>[0]['script']) {
  const started = await startCallbackReceiver({ secret: SECRET, script });
  ctx.onCleanup(() => started.close());
  return started;
}

async function batchInfo(api: ApiHarness, id: string) {
  const res = await api.call({ method: 'GET', url: `/v1/batches/${id}` });
  expect(res.statusCode).toBe(200);
  return res.json();
}

function bodyOf(request: CallbackReceiver['requests'][number] | undefined) {
  return JSON.parse(request?.body ?? 'null');
}

describe('a 10,000-item batch end to end (HTTP API → worker → simulator → callbacks)', () => {
  it('completes with exact counters, complete ordered results, one submit per item and a batch callback delivered on the third try', {
    timeout: 120_000,
  }, async () => {
    const batchHook = await receiver([{ status: 500 }, { status: 500 }]);
    const itemHook = await receiver([]);
    const callbackEnv = { ATELIER_CALLBACK_SECRET: SECRET, ATELIER_CALLBACK_ALLOW_PRIVATE: 'true' };
    const stack = await DrawingStack.start(ctx, {
      simulator: { faults: { blockedWords: [BLOCKED_WORD] } },
      env: {
        ...callbackEnv,
        ATELIER_WORKER_QUEUES: 'drawing,callbacks',
        DRAWING_CONCURRENCY: '50',
      },
    });
    const api = await startApi(ctx, { prefix: stack.prefix, env: callbackEnv });
    await stack.startWorker();

    const items = Array.from({ length: TOTAL }, (_, i) => ({
      ...DRAWING,
      text: textOf(i),
      ...(i === HOOKED_DONE || i === HOOKED_DEAD ? { callbackUrl: itemHook.url } : {}),
    }));
    const created = await api.call({
      method: 'POST',
      url: '/v1/batches',
      payload: { items, callbackUrl: batchHook.url },
    });
    expect(created.statusCode).toBe(202);
    const { id, total } = created.json();
    expect(total).toBe(TOTAL);
    const jobId = (index: number) => `dr_${id}~${index}`;

    const done = await waitFor(
      async () => {
        const info = await batchInfo(api, id);
        return info.state === 'completed' ? info : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250, what: `batch ${id} to complete` },
    );

    // Exact counters.
    expect(done).toEqual({
      id,
      total: TOTAL,
      completed: COMPLETED,
      dead: DEAD,
      cancelled: 0,
      pending: 0,
      state: 'completed',
      enqueued: TOTAL,
      createdAt: expect.any(Number),
      completedAt: expect.any(Number),
      tenant: 'default',
    });
    expect(done.completedAt).toBeGreaterThanOrEqual(done.createdAt);

    // Complete results: one line per item, in input order, each with what that item should get.
    const res = await api.call({ method: 'GET', url: `/v1/batches/${id}/results` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const lines = res.body
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(TOTAL);
    const problems = lines.flatMap((line, index) => {
      const problem = resultProblem(line, index, jobId(index));
      return problem ? [`line ${index}: ${problem}: ${JSON.stringify(line)}`] : [];
    });
    // Checked line by line (a 10,000-line diff is unreadable); the first few misfits are shown.
    expect(problems.slice(0, 5), `${problems.length} result lines are wrong`).toEqual([]);
    const taskIds = new Set(lines.flatMap((line) => (line.taskId ? [line.taskId] : [])));
    expect(taskIds.size).toBe(COMPLETED);
    expect([...taskIds].filter((taskId) => stack.sim.queriesFor(taskId) === 0)).toEqual([]);

    // The dead items are in the dead-letter queue with the provider's code, and only they are.
    expect(await stack.deadLetters.countByCode()).toEqual({ '202': DEAD });
    expect(await stack.deadLetters.get(jobId(HOOKED_DEAD))).toMatchObject({
      code: '202',
      meta: { batchId: id, batchIndex: HOOKED_DEAD },
    });

    // Paid once: exactly one submit per item, a task only for the items not blocked.
    const counters = stack.sim.counters();
    expect(counters.submits).toBe(TOTAL);
    expect(counters.tasksCreated).toBe(COMPLETED);
    expect(counters.faults.blocked).toBe(DEAD);
    const resubmitted = items.filter((item) => stack.sim.submitsFor(item.text) !== 1);
    expect(resubmitted.map((item) => item.text)).toEqual([]);

    // batch.completed: refused twice with HTTP 500, accepted on the third try, exactly once.
    const accepted = await waitFor(() => batchHook.accepted[0], {
      timeoutMs: 15_000,
      what: 'the batch.completed callback to be accepted',
    });
    expect(batchHook.requests.map((r) => r.outcome)).toEqual(['scripted', 'scripted', 'accepted']);
    expect(batchHook.accepted).toHaveLength(1);
    const deliveryId = String(accepted.headers['x-atelier-delivery']);
    expect(accepted.headers['x-atelier-event']).toBe('batch.completed');
    for (const request of batchHook.requests) {
      expect(request.headers['x-atelier-delivery']).toBe(deliveryId);
      expect(request.body).toBe(accepted.body);
    }
    // The signature verifies with the configured secret, and only with it.
    expect(
      verifyCallback({ secret: SECRET, headers: accepted.headers, body: accepted.body }),
    ).toEqual({
      ok: true,
      deliveryId,
      event: 'batch.completed',
      timestampSec: expect.any(Number),
    });
    expect(
      verifyCallback({ secret: `${SECRET}-wrong`, headers: accepted.headers, body: accepted.body }),
    ).toEqual({ ok: false, reason: 'signature_mismatch' });
    expect(bodyOf(accepted)).toEqual({
      event: 'batch.completed',
      id,
      tenant: 'default',
      total: TOTAL,
      completed: COMPLETED,
      dead: DEAD,
      cancelled: 0,
      pending: 0,
      state: 'completed',
      deliveryId,
    });

    // The delivery job took three attempts, and it is the only batch.completed delivery queued.
    const callbacks = new Queue<CallbackJobData>(QUEUE_NAMES.callbacks, {
      connection: ctx.connection(),
      prefix: stack.prefix,
    });
    ctx.onCleanup(() => callbacks.close());
    const delivery = await waitFor(
      async () =>
        (await callbacks.getJobState(deliveryId)) === 'completed'
          ? await callbacks.getJob(deliveryId)
          : undefined,
      { what: `delivery ${deliveryId} to be completed` },
    );
    expect(delivery.attemptsMade).toBe(3);
    expect(delivery.returnvalue).toEqual({ status: 204 });
    const queued = await callbacks.getJobs(['completed', 'failed', 'wait', 'delayed', 'active']);
    expect(queued.filter((job) => job.name === 'batch.completed').map((job) => job.id)).toEqual([
      deliveryId,
    ]);

    // Per-item callbacks: job.completed for the item that was drawn, job.dead for the blocked one.
    await waitFor(() => itemHook.accepted.length >= 2, {
      timeoutMs: 15_000,
      what: 'both item callbacks',
    });
    expect(itemHook.requests.map((r) => r.outcome)).toEqual(['accepted', 'accepted']);
    const byId = new Map(itemHook.accepted.map((r) => [bodyOf(r).id, r]));
    const doneHook = byId.get(jobId(HOOKED_DONE));
    const deadHook = byId.get(jobId(HOOKED_DEAD));
    expect(doneHook?.verification).toMatchObject({ ok: true, event: 'job.completed' });
    expect(bodyOf(doneHook)).toMatchObject({
      event: 'job.completed',
      id: jobId(HOOKED_DONE),
      kind: 'drawing',
      state: 'completed',
      batchId: id,
      result: { taskId: lines[HOOKED_DONE].taskId, images: lines[HOOKED_DONE].images },
    });
    expect(deadHook?.verification).toMatchObject({ ok: true, event: 'job.dead' });
    expect(bodyOf(deadHook)).toMatchObject({
      event: 'job.dead',
      id: jobId(HOOKED_DEAD),
      kind: 'drawing',
      state: 'dead',
      batchId: id,
      error: { code: '202', message: lines[HOOKED_DEAD].message },
    });
    // The callbacks say what GET /v1/jobs/{id} says.
    for (const hook of [doneHook, deadHook]) {
      const body = bodyOf(hook);
      const job = (await api.call({ method: 'GET', url: `/v1/jobs/${body.id}` })).json();
      expect(body).toMatchObject({ state: job.state, attempts: job.attempts });
      expect(body.attempts).toBeGreaterThanOrEqual(1);
    }
  });
});

/** What is wrong with one results line (undefined when it is what item `index` should get). */
function resultProblem(
  line: Record<string, unknown>,
  index: number,
  jobId: string,
): string | undefined {
  if (line.index !== index) return `index ${String(line.index)} out of order`;
  if (line.jobId !== jobId) return `jobId is not ${jobId}`;
  const keys = Object.keys(line).sort().join(',');
  if (isBlocked(index)) {
    if (line.state !== 'dead') return 'should be dead';
    if (line.code !== '202') return 'should carry the provider code 202';
    if (typeof line.message !== 'string' || line.message === '') return 'has no message';
    if (keys !== 'code,index,jobId,message,state') return `unexpected fields ${keys}`;
    return undefined;
  }
  if (line.state !== 'completed') return 'should be completed';
  const images = line.images;
  if (!Array.isArray(images) || images.length !== 1 || !/^https?:\/\//.test(String(images[0]))) {
    return 'should have exactly one image URL';
  }
  if (typeof line.taskId !== 'string' || !/^\d{19}$/.test(line.taskId)) {
    return 'should have the 19-digit taskId';
  }
  if (keys !== 'images,index,jobId,state,taskId') return `unexpected fields ${keys}`;
  return undefined;
}
