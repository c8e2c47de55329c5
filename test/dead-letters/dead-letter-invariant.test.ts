import type { DeadLetter } from '@atelier/shared';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { startChildWorker } from '../support/child-worker.ts';
import { DrawingStack, TASK } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const FAST = { lockDuration: 1000, stalledInterval: 300 };

describe('every job that will not run again is completed or dead-lettered, exactly once', () => {
  it('a worker killed mid-job, failed by BullMQ (stall limit) without our insert, is reconciled into the DLQ', async () => {
    const stack = await DrawingStack.start(ctx, { env: { ATELIER_RECONCILE_INTERVAL_MS: '300' } });
    stack.sim.script('killed', { query: [{ delayMs: 60_000 }] });
    const child = await startChildWorker({
      ...stack.env,
      TEST_LOCK_DURATION_MS: '1000',
      TEST_STALLED_INTERVAL_MS: '300',
      TEST_MAX_STALLED_COUNT: '0',
    });
    ctx.onCleanup(() => child.kill());
    const id = await stack.enqueue({ text: 'killed' });
    await waitFor(
      async () => {
        const job = await stack.job(id);
        return job?.data.state?.taskId && (await job.getState()) === 'active';
      },
      { what: 'the job mid-poll' },
    );
    await child.kill();
    // This worker's stall check fails the job (BullMQ's own path, no dead-letter insert)…
    await stack.startWorker({ ...FAST, maxStalledCount: 0 });
    // …and its reconciler puts it where it belongs.
    const entry = await stack.dead(id);
    expect(entry.code).toBe('STALLED_LIMIT');
    expect(entry.taskId).toMatch(/^\d+$/);
    expect(await stack.deadLetters.count()).toBe(1);
    expect(stack.sim.submitsFor('killed')).toBe(1);
  });

  it('a failed job with no dead letter (its worker died before the insert) is reconciled once, at start-up', async () => {
    const stack = await DrawingStack.start(ctx);
    const id = await stack.enqueue({ text: 'orphan' });
    // A worker that records the failure in BullMQ and dies before inserting the dead letter.
    const crashing = new Worker(
      'drawing',
      async () => {
        throw new UnrecoverableError('[202] text blocked by moderation');
      },
      { connection: ctx.connection(), prefix: stack.prefix },
    );
    await waitFor(async () => (await stack.job(id))?.isFailed(), { what: 'the orphan to fail' });
    await crashing.close();
    expect(await stack.deadLetters.has(id)).toBe(false);

    const worker = await stack.startWorker();
    const entry = await waitFor(() => stack.deadLetters.get(id), {
      what: 'the reconciled dead letter',
    });
    expect(entry).toMatchObject({
      id,
      code: '202',
      message: 'text blocked by moderation',
      request: { text: 'orphan' },
    });
    // Running again adds nothing: insertion is idempotent and the entry is the first one.
    expect(await worker.reconciler?.run()).toBe(0);
    expect(await stack.deadLetters.count()).toBe(1);
  });

  it('a job already in the DLQ (worker died after the insert, before BullMQ recorded it) is failed, not re-run', async () => {
    const stack = await DrawingStack.start(ctx);
    const id = await stack.enqueue({ text: 'already dead' });
    const job = await stack.job(id);
    const history = [{ attempt: 1, at: Date.now(), code: '202', message: 'blocked' }];
    await job?.updateData({ ...job.data, history });
    const first: DeadLetter = {
      id,
      queue: 'drawing',
      kind: 'drawing',
      code: '202',
      message: 'blocked',
      attempts: 1,
      history,
      request: { ...TASK, text: 'already dead' },
      meta: { enqueuedAt: Date.now() },
      failedAt: Date.now(),
    };
    expect(await stack.deadLetters.insert(first)).toBe(true);
    await stack.startWorker();
    await waitFor(async () => (await stack.job(id))?.isFailed(), { what: 'the job to fail' });
    expect(await stack.deadLetters.get(id)).toEqual(first);
    expect(stack.sim.counters().submits).toBe(0);
  });

  it('dead letters past ATELIER_DEAD_LETTER_AGE_SEC are purged by the reconciler', async () => {
    const stack = await DrawingStack.start(ctx, { env: { ATELIER_DEAD_LETTER_AGE_SEC: '3600' } });
    const base = {
      queue: 'drawing' as const,
      kind: 'drawing' as const,
      code: '202',
      message: 'm',
      attempts: 1,
      history: [],
      request: TASK,
      meta: { enqueuedAt: 0 },
    };
    await stack.deadLetters.insert({ ...base, id: 'dr_old', failedAt: Date.now() - 2 * 3600_000 });
    await stack.deadLetters.insert({ ...base, id: 'dr_new', failedAt: Date.now() });
    await stack.startWorker();
    await waitFor(async () => !(await stack.deadLetters.has('dr_old')), {
      what: 'the old entry purged',
    });
    expect(await stack.deadLetters.has('dr_new')).toBe(true);
    expect(await stack.deadLetters.countByCode()).toEqual({ '202': 1 });
  });
});
