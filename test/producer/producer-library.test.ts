import { createProducer, type Producer } from '@atelier/producer';
import {
  atelierKeys,
  type DrawingJobData,
  jobIdFor,
  QUEUE_NAMES,
  ValidationError,
} from '@atelier/shared';
import { BatchLedger, DeadLetterStore } from '@atelier/store';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger } from '../support/capture-logger.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { DRAWING } from './api-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

function producer(
  prefix: string,
  options: { batchChunkSize?: number; batchChunksInFlight?: number } = {},
): Producer {
  const p = createProducer({
    redisUrl: ctx.url,
    prefix,
    logger: captureLogger('warn').logger,
    ...options,
  });
  ctx.onCleanup(() => p.close());
  return p;
}

function drawingQueue(prefix: string) {
  const queue = new Queue<DrawingJobData>(QUEUE_NAMES.drawing, {
    connection: ctx.connection(),
    prefix,
  });
  ctx.onCleanup(() => queue.close());
  return queue;
}

const items = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ ...DRAWING, text: `item ${i}` }));

async function* slowly<T>(values: T[]): AsyncGenerator<T> {
  for (const value of values) {
    await Promise.resolve();
    yield value;
  }
}

describe('createProducer', () => {
  it('says created: true, then false for the same idempotency key', async () => {
    const prefix = ctx.prefix('lib');
    const p = producer(prefix);
    const first = await p.enqueueDrawing({ ...DRAWING, idempotencyKey: 'same' });
    const second = await p.enqueueDrawing({ ...DRAWING, idempotencyKey: 'same' });
    expect(first).toEqual({ id: 'dr_same', created: true, images: 1 });
    expect(second).toEqual({ id: 'dr_same', created: false, images: 0 });
    const cme = await p.enqueueCmeOperation({
      userId: 'u1',
      action: 'Material/DescribeMaterials',
      params: { MaterialIds: ['m1'] },
      idempotencyKey: 'same',
    });
    expect(cme).toEqual({ id: jobIdFor('cme', 'same'), created: true, images: 0 });
  });

  it('does not re-create a job whose dead letter outlived it (a key stays used)', async () => {
    const prefix = ctx.prefix('lib');
    const p = producer(prefix);
    const { id } = await p.enqueueDrawing({ ...DRAWING, idempotencyKey: 'was-dead' });
    await new DeadLetterStore(ctx.connection(), prefix).insert({
      id,
      queue: 'drawing',
      kind: 'drawing',
      code: '202',
      message: 'refused',
      attempts: 1,
      history: [],
      request: { ...DRAWING, num: 1 },
      meta: { enqueuedAt: 1 },
      failedAt: 1,
    });
    const queue = drawingQueue(prefix);
    await (await queue.getJob(id))?.remove();
    expect(await p.enqueueDrawing({ ...DRAWING, idempotencyKey: 'was-dead' })).toEqual({
      id,
      created: false,
      images: 0,
    });
    expect(await queue.getJob(id)).toBeUndefined();
  });

  it('throws ValidationError before touching Redis', async () => {
    const p = producer(ctx.prefix('lib'));
    await expect(p.enqueueDrawing({ ...DRAWING, num: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(
      p.enqueueCmeOperation({
        userId: 'bad user',
        action: 'Material/DeleteMaterial',
        params: { MaterialId: 'm' },
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('createBatch', () => {
  it('takes an async iterable (spooled, validated in full before anything is queued)', async () => {
    const prefix = ctx.prefix('lib');
    const p = producer(prefix, { batchChunkSize: 7 });
    const queue = drawingQueue(prefix);
    const bad = [...items(30), { ...DRAWING, resolution: '1*1' }];
    await expect(p.createBatch(slowly(bad))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [expect.objectContaining({ field: 'items.30.resolution' })],
    });
    expect(await queue.count()).toBe(0);
    expect(await new BatchLedger(ctx.connection(), prefix).list()).toEqual([]);

    const progress: number[] = [];
    const batch = await p.createBatch(slowly(items(30)), { onEnqueued: (n) => progress.push(n) });
    expect(batch).toMatchObject({ total: 30, created: true });
    expect(progress).toEqual([7, 14, 21, 28, 30]);
    expect(await queue.count()).toBe(30);
    const lines = [];
    for await (const line of p.batchResults(batch.id)) lines.push(line.index);
    expect(lines).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('finishes an interrupted batch when it is submitted again with its key, counting each item once', async () => {
    const prefix = ctx.prefix('lib');
    const queue = drawingQueue(prefix);
    const first = producer(prefix, { batchChunkSize: 10 });
    const crash = new Error('process died');
    await expect(
      first.createBatch(items(25), {
        idempotencyKey: 'resume-me',
        onEnqueued: (n) => {
          if (n === 10) throw crash;
        },
      }),
    ).rejects.toBe(crash);
    const ledger = new BatchLedger(ctx.connection(), prefix);
    expect(await ledger.get('b_resume-me')).toMatchObject({ total: 25, enqueued: 10 });
    // The ledger counts only chunks known to be queued; the chunk that was in flight when the
    // process died may or may not have landed (its ids are fixed, so resuming cannot double it).
    const landed = await queue.count();
    expect(landed).toBeGreaterThanOrEqual(10);
    expect(landed).toBeLessThanOrEqual(20);

    const second = producer(prefix, { batchChunkSize: 10 });
    expect(await second.createBatch(items(25), { idempotencyKey: 'resume-me' })).toEqual({
      id: 'b_resume-me',
      total: 25,
      created: false,
      images: 0,
    });
    expect(await queue.count()).toBe(25);
    expect(await ledger.get('b_resume-me')).toMatchObject({ enqueued: 25, state: 'open' });
    for (let i = 0; i < 25; i++) {
      await ledger.settle('b_resume-me', {
        index: i,
        jobId: `dr_b_resume-me~${i}`,
        state: 'completed',
      });
    }
    expect(await ledger.get('b_resume-me')).toMatchObject({
      completed: 25,
      pending: 0,
      state: 'completed',
    });
  });

  it('stops, counting nothing more, when another submission took its lease over', async () => {
    const prefix = ctx.prefix('lib');
    const p = producer(prefix, { batchChunkSize: 5, batchChunksInFlight: 1 });
    const lease = `${atelierKeys(prefix).batch.meta('b_taken')}:enqueuer`;
    const redis = ctx.connection();
    await expect(
      p.createBatch(items(20), {
        idempotencyKey: 'taken',
        onEnqueued: (n) => {
          // As if this process stalled past its lease and another submission took it.
          if (n === 5) void redis.set(lease, 'someone-else', 'PX', 60_000);
        },
      }),
    ).rejects.toThrow(/lost the enqueue lease of batch b_taken/);
    const ledger = new BatchLedger(ctx.connection(), prefix);
    expect(await ledger.get('b_taken')).toMatchObject({ total: 20, enqueued: 5 });
    expect(await redis.get(lease)).toBe('someone-else');
  });

  it('queues a batch once when the same key is submitted twice at the same time', async () => {
    const prefix = ctx.prefix('lib');
    const p = producer(prefix, { batchChunkSize: 5 });
    const [a, b] = await Promise.all([
      p.createBatch(items(40), { idempotencyKey: 'twice' }),
      p.createBatch(items(40), { idempotencyKey: 'twice' }),
    ]);
    expect(a.id).toBe(b.id);
    expect(await drawingQueue(prefix).count()).toBe(40);
    expect(await p.getBatch(a.id)).toMatchObject({ total: 40, enqueued: 40 });
  });
});
