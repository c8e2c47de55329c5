import { randomUUID } from 'node:crypto';
import { createProducer } from '@atelier/producer';
import { atelierKeys, type DrawingJobData } from '@atelier/shared';
import type { RedisClient } from '@atelier/store';
import type { AtelierWorker } from '@atelier/worker';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { betweenReads } from '../support/between-reads.ts';
import { DrawingStack, TASK } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

/** Reconciliation passes run only when a test asks (plus the one at start-up). */
const QUIET = { ATELIER_RECONCILE_INTERVAL_MS: '3600000' };

function producerFor(stack: DrawingStack) {
  const producer = createProducer({ connection: ctx.connection(), prefix: stack.prefix });
  ctx.onCleanup(() => producer.close());
  return producer;
}

/** The worker's own Redis connection (the reconciler reads and files through it). */
async function workerRedis(worker: AtelierWorker): Promise<RedisClient> {
  const queue = worker.queues[0]?.queue;
  if (!queue) throw new Error('the worker runs no job queue');
  return (await queue.getBackend().client) as unknown as RedisClient;
}

/** A drawing dead-lettered by the worker itself (the provider refuses it: code 202). */
async function deadLettered(stack: DrawingStack, text: string): Promise<string> {
  stack.sim.script(text, { submit: [{ code: 202 }] });
  const id = await stack.enqueue({ text });
  await stack.dead(id);
  return id;
}

/** Fails jobs as BullMQ records them, without a dead letter (a worker that died before filing). */
function failWithoutFiling(stack: DrawingStack): Worker<DrawingJobData> {
  const crashing = new Worker<DrawingJobData>(
    'drawing',
    async (): Promise<never> => {
      throw new UnrecoverableError('[202] text blocked by moderation');
    },
    { connection: ctx.connection(), prefix: stack.prefix },
  );
  ctx.onCleanup(() => crashing.close());
  return crashing;
}

describe('the dead-letter reconciler files only what is still failed when it files', () => {
  it('a dead letter deleted while a pass reads the failed set is not filed again', async () => {
    const stack = await DrawingStack.start(ctx, { env: QUIET });
    const worker = await stack.startWorker();
    const id = await deadLettered(stack, 'deleted meanwhile');
    await worker.reconciler.run();

    const hook = betweenReads(
      await workerRedis(worker),
      [`${stack.prefix}:drawing:failed`, `${stack.prefix}:drawing:${id}`],
      () => producerFor(stack).deleteDeadLetter(id),
    );
    const added = await worker.reconciler.run();
    hook.restore();

    expect(hook.after).toBeDefined();
    expect(added).toBe(0);
    expect(await stack.deadLetters.has(id)).toBe(false);
    expect(await stack.job(id)).toBeUndefined();
  });

  it('a dead letter replayed while a pass reads the failed set is not filed again (the replay stands)', async () => {
    const stack = await DrawingStack.start(ctx, { env: QUIET });
    const worker = await stack.startWorker();
    const id = await deadLettered(stack, 'replayed meanwhile');
    await worker.reconciler.run();
    // The replayed job waits (nobody takes it), so a stale filing would stay visible.
    await stack.queue.pause();

    const hook = betweenReads(
      await workerRedis(worker),
      [`${stack.prefix}:drawing:failed`, `${stack.prefix}:drawing:${id}`],
      () => producerFor(stack).replayDeadLetter(id),
    );
    const added = await worker.reconciler.run();
    hook.restore();

    expect(hook.after).toBeDefined();
    expect(added).toBe(0);
    expect(await stack.deadLetters.has(id)).toBe(false);
    const job = await stack.job(id);
    expect(['waiting', 'prioritized']).toContain(await job?.getState());
    expect(job?.data.meta.replays).toBe(1);
  });

  it('a failed job retried (dashboard) while a pass files it is not filed', async () => {
    const stack = await DrawingStack.start(ctx, { env: QUIET });
    const id = await stack.enqueue({ text: 'retried meanwhile' });
    // A worker that holds the job, then records its failure and dies before filing it.
    const holder = new Worker<DrawingJobData>('drawing', null, {
      connection: ctx.connection(),
      prefix: stack.prefix,
    });
    ctx.onCleanup(() => holder.close(true));
    const token = randomUUID();
    const job = await holder.getNextJob(token);
    const worker = await stack.startWorker();
    await worker.reconciler.run();
    await stack.queue.pause();
    await job?.moveToFailed(new UnrecoverableError('[202] text blocked by moderation'), token);
    expect(await stack.queue.getJobState(id)).toBe('failed');

    // The retry lands between the pass's read of the job and its filing.
    const hook = betweenReads(await workerRedis(worker), `${stack.prefix}:drawing:${id}`, () =>
      stack.job(id).then((failed) => failed?.retry('failed')),
    );
    const added = await worker.reconciler.run();
    hook.restore();

    expect(hook.after).toBeDefined();
    expect(added).toBe(0);
    expect(await stack.deadLetters.has(id)).toBe(false);
    expect(['waiting', 'prioritized']).toContain(await stack.queue.getJobState(id));
  });
});

describe('one malformed failed job does not stop reconciliation', () => {
  it('is logged and skipped; the other jobs are filed, old dead letters purged, the watermark kept', async () => {
    const stack = await DrawingStack.start(ctx, {
      env: { ...QUIET, ATELIER_DEAD_LETTER_AGE_SEC: '3600' },
    });
    const good = await stack.enqueue({ text: 'well formed' });
    // `kind` set, no `meta`: added by hand, as an older or foreign producer might.
    const malformed = 'dr_malformed';
    await stack.queue.add('drawing', { kind: 'drawing', task: TASK } as unknown as DrawingJobData, {
      jobId: malformed,
    });
    const crashing = failWithoutFiling(stack);
    await waitFor(
      async () => (await stack.job(good))?.isFailed() && (await stack.job(malformed))?.isFailed(),
      { what: 'both jobs to fail' },
    );
    await crashing.close();
    const old = 'dr_past_retention';
    await stack.deadLetters.insert({
      id: old,
      queue: 'drawing',
      kind: 'drawing',
      code: '202',
      message: 'm',
      attempts: 1,
      history: [],
      request: TASK,
      meta: { enqueuedAt: 0 },
      failedAt: Date.now() - 2 * 3600_000,
    });

    const worker = await stack.startWorker();
    const entry = await waitFor(() => stack.deadLetters.get(good), { what: 'the good job filed' });
    expect(entry).toMatchObject({ id: good, code: '202' });
    await waitFor(async () => !(await stack.deadLetters.has(old)), {
      what: 'the old entry purged',
    });
    expect(await stack.deadLetters.has(malformed)).toBe(false);
    const logged = stack.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 50, jobId: malformed, queue: 'drawing' }),
    );
    // The pass got to its end: the watermark moved past both jobs, and the next pass is quiet.
    const watermark = await ctx
      .connection()
      .get(atelierKeys(stack.prefix).deadLetters.watermark('drawing'));
    expect(Number(watermark)).toBeGreaterThan(0);
    expect(await worker.reconciler.run()).toBe(0);
  });
});
