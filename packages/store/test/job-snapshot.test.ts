import { randomUUID } from 'node:crypto';
import { DeadLetterStore, JobSnapshot } from '@atelier/store';
import { FlowProducer, Queue, UnrecoverableError, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../../../test/support/redis-context.ts';
import { deadLetter } from './support/store-fixtures.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const DATA = { kind: 'drawing', task: { text: 'a cat' }, meta: { enqueuedAt: 1 } };
const RESULT = { taskId: 't-1', images: ['1.png'], polls: 1, submittedAt: 1, finishedAt: 2 };

function setup() {
  const redis = ctx.connection();
  const prefix = ctx.prefix('snap');
  const queue = new Queue('drawing', { connection: redis, prefix });
  ctx.onCleanup(() => queue.close());
  const worker = new Worker('drawing', null, { connection: ctx.connection(), prefix });
  ctx.onCleanup(() => worker.close(true));
  return { redis, prefix, queue, worker, snapshots: new JobSnapshot(redis, prefix) };
}

describe('JobSnapshot', () => {
  it("says the state BullMQ's own getState says, in every state a job can be in", async () => {
    const { redis, prefix, queue, worker, snapshots } = setup();
    // Job ids must not be BullMQ key names (`active` would be the active list). Taken first (the only job then), so that the others stay where they are put.
    await queue.add('drawing', DATA, { jobId: 'dr_active' });
    const token = randomUUID();
    const active = await worker.getNextJob(token);
    expect(active?.id).toBe('dr_active');
    await queue.add('drawing', DATA, { jobId: 'dr_waiting' });
    await queue.add('drawing', DATA, { jobId: 'dr_prioritized', priority: 5 });
    await queue.add('drawing', DATA, { jobId: 'dr_delayed', delay: 60_000 });
    // A job paused by an older BullMQ sits in the `paused` list: BullMQ reads it as waiting.
    await queue.add('drawing', DATA, { jobId: 'dr_paused-list' });
    await redis.lrem(queue.toKey('wait'), 0, 'dr_paused-list');
    await redis.lpush(queue.toKey('paused'), 'dr_paused-list');
    const flows = new FlowProducer({ connection: redis, prefix });
    ctx.onCleanup(() => flows.close());
    await flows.add({
      name: 'parent',
      queueName: 'drawing',
      data: DATA,
      opts: { jobId: 'dr_waiting-children' },
      children: [{ name: 'child', queueName: 'drawing-children', data: DATA }],
    });

    const states: Record<string, string> = {};
    for (const id of [
      'dr_active',
      'dr_waiting',
      'dr_prioritized',
      'dr_delayed',
      'dr_paused-list',
      'dr_waiting-children',
      'dr_missing',
    ]) {
      const snapshot = await snapshots.read(queue, id);
      expect(snapshot.state, id).toBe(await queue.getJobState(id));
      states[id] = snapshot.state;
    }
    expect(states).toEqual({
      dr_active: 'active',
      dr_waiting: 'waiting',
      dr_prioritized: 'prioritized',
      dr_delayed: 'delayed',
      'dr_paused-list': 'waiting',
      'dr_waiting-children': 'waiting-children',
      dr_missing: 'unknown',
    });

    await active?.moveToCompleted(RESULT, token, false);
    expect(await snapshots.read(queue, 'dr_active')).toEqual({
      state: 'completed',
      job: { data: DATA, returnvalue: RESULT, attemptsMade: 1 },
      deadLetter: undefined,
    });
    expect(await queue.getJobState('dr_active')).toBe('completed');
  });

  it('checks the places in the order BullMQ does, for an id found in several', async () => {
    const { redis, queue, snapshots } = setup();
    const id = 'dr_twice';
    const places: Array<[string, () => Promise<unknown>]> = [
      ['completed', () => redis.zadd(queue.toKey('completed'), 1, id)],
      ['failed', () => redis.zadd(queue.toKey('failed'), 1, id)],
      ['delayed', () => redis.zadd(queue.toKey('delayed'), 1, id)],
      ['prioritized', () => redis.zadd(queue.toKey('prioritized'), 1, id)],
      ['active', () => redis.lpush(queue.toKey('active'), id)],
      ['wait', () => redis.lpush(queue.toKey('wait'), id)],
      ['paused', () => redis.lpush(queue.toKey('paused'), id)],
      ['waiting-children', () => redis.zadd(queue.toKey('waiting-children'), 1, id)],
    ];
    const seen: string[] = [];
    // Put the id in the last place first, then in each earlier one: BullMQ's answer changes.
    for (const [, put] of places.reverse()) {
      await put();
      const { state } = await snapshots.read(queue, id);
      expect(state).toBe(await queue.getJobState(id));
      seen.push(state);
    }
    expect(seen).toEqual([
      'waiting-children',
      'waiting',
      'waiting',
      'active',
      'prioritized',
      'delayed',
      'failed',
      'completed',
    ]);
  });

  it('reads a failed job with its reason and its dead letter, and a dead letter whose job is gone', async () => {
    const { redis, prefix, queue, worker, snapshots } = setup();
    const entry = deadLetter('dr_f', { meta: { enqueuedAt: 1 } });
    await queue.add('drawing', DATA, { jobId: 'dr_f' });
    const token = randomUUID();
    const job = await worker.getNextJob(token);
    await new DeadLetterStore(redis, prefix).insert(entry);
    await job?.moveToFailed(new UnrecoverableError('[POLL_TIMEOUT] gave up polling'), token);

    expect(await snapshots.read(queue, 'dr_f')).toEqual({
      state: 'failed',
      job: { data: DATA, failedReason: '[POLL_TIMEOUT] gave up polling', attemptsMade: 1 },
      deadLetter: entry,
    });
    expect(await queue.getJobState('dr_f')).toBe('failed');

    await job?.remove();
    expect(await snapshots.read(queue, 'dr_f')).toEqual({
      state: 'unknown',
      job: undefined,
      deadLetter: entry,
    });
  });

  it('knows a job by its hash or its dead letter', async () => {
    const { redis, prefix, queue, snapshots } = setup();
    await queue.add('drawing', DATA, { jobId: 'dr_kept' });
    await new DeadLetterStore(redis, prefix).insert(deadLetter('dr_filed'));
    expect(await snapshots.known(queue, 'dr_kept')).toBe(true);
    expect(await snapshots.known(queue, 'dr_filed')).toBe(true);
    expect(await snapshots.known(queue, 'dr_none')).toBe(false);
  });
});
