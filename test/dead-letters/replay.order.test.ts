import { createProducer, type Producer } from '@atelier/producer';
import { atelierKeys } from '@atelier/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { betweenReads } from '../support/between-reads.ts';
import { cutCommand } from '../support/cut-command.ts';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const STYLE = { style: '油画', resolution: '1024*1024' } as const;

/** A finished batch of two: item 0 completed, item 1 ("refused once") dead-lettered (202). */
async function batchWithDeadItem(): Promise<{
  stack: DrawingStack;
  producer: Producer;
  batchId: string;
  deadId: string;
}> {
  const stack = await DrawingStack.start(ctx);
  stack.sim.script('refused once', { submit: [{ code: 202 }] });
  await stack.startWorker();
  const producer = createProducer({ connection: ctx.connection(), prefix: stack.prefix });
  ctx.onCleanup(() => producer.close());
  const { id: batchId } = await producer.createBatch([
    { text: 'fine', ...STYLE },
    { text: 'refused once', ...STYLE },
  ]);
  await waitFor(async () => (await producer.getBatch(batchId)).state === 'completed', {
    what: 'the batch to finish',
  });
  const [entry] = (await producer.listDeadLetters({ batchId })).items;
  if (!entry) throw new Error('no dead letter in the batch');
  await stack.dead(entry.id);
  return { stack, producer, batchId, deadId: entry.id };
}

const FINISHED_WITH_ONE_DEAD = { completed: 1, dead: 1, pending: 0, state: 'completed' };
const FINISHED_ALL_COMPLETED = { completed: 2, dead: 0, pending: 0, state: 'completed' };

describe('a replay cut between its steps never leaves a batch open for good', () => {
  it('cut as it queues the job again: nothing changed (the batch stays finished), and a replay again works', async () => {
    const { stack, producer, batchId, deadId } = await batchWithDeadItem();

    // The write that puts the job back in its queue (it alone names the queue's event stream).
    const cut = cutCommand(producer.redis, `${stack.prefix}:drawing:events`);
    await expect(producer.replayDeadLetter(deadId)).rejects.toMatchObject({
      code: 'REDIS_UNAVAILABLE',
    });
    cut.restore();
    expect(cut.cut).toBeDefined();

    // Nothing is waiting on a job that will never run: the batch is as it was.
    expect(await producer.getBatch(batchId)).toMatchObject(FINISHED_WITH_ONE_DEAD);
    expect(await stack.queue.getJobState(deadId)).toBe('failed');
    expect(await stack.deadLetters.has(deadId)).toBe(true);

    await producer.replayDeadLetter(deadId);
    await stack.completed(deadId);
    await waitFor(async () => (await producer.getBatch(batchId)).completed === 2, {
      what: 'the replayed item to complete',
    });
    expect(await producer.getBatch(batchId)).toMatchObject(FINISHED_ALL_COMPLETED);
    expect(await stack.deadLetters.has(deadId)).toBe(false);
  });

  it('cut after the job was queued again: the replayed run settles its batch item', async () => {
    const { stack, producer, batchId, deadId } = await batchWithDeadItem();

    const cut = cutCommand(producer.redis, atelierKeys(stack.prefix).batch.items(batchId));
    await expect(producer.replayDeadLetter(deadId)).rejects.toMatchObject({
      code: 'REDIS_UNAVAILABLE',
    });
    cut.restore();
    expect(cut.cut).toBeDefined();

    await stack.completed(deadId);
    await waitFor(async () => (await producer.getBatch(batchId)).completed === 2, {
      what: 'the replayed item to complete',
    });
    expect(await producer.getBatch(batchId)).toMatchObject(FINISHED_ALL_COMPLETED);
    expect(await stack.deadLetters.has(deadId)).toBe(false);
    const lines = [];
    for await (const line of producer.batchResults(batchId)) lines.push(line.state);
    expect(lines).toEqual(['completed', 'completed']);
  });
});

describe('DELETE and replay of one dead letter at once', () => {
  it('a replay asked while a DELETE is under way answers REPLAY_CONFLICT; the delete stands', async () => {
    const { stack, producer, batchId, deadId } = await batchWithDeadItem();

    let replay: Promise<string> | undefined;
    // The replay arrives once the delete has read the job and its dead letter.
    const hook = betweenReads(producer.redis, `${stack.prefix}:drawing:${deadId}`, async () => {
      replay = producer.replayDeadLetter(deadId).then(
        () => 'replayed',
        (error: { code?: string }) => error.code ?? String(error),
      );
      await replay;
    });
    await producer.deleteDeadLetter(deadId);
    hook.restore();

    expect(hook.after).toBeDefined();
    expect(await replay).toBe('REPLAY_CONFLICT');
    expect(await stack.deadLetters.has(deadId)).toBe(false);
    expect(await stack.job(deadId)).toBeUndefined();
    expect(await producer.getBatch(batchId)).toMatchObject(FINISHED_WITH_ONE_DEAD);
  });

  it('a DELETE asked while a replay is under way answers REPLAY_CONFLICT; the replay stands', async () => {
    const { stack, producer, batchId, deadId } = await batchWithDeadItem();

    let deletion: Promise<string> | undefined;
    const hook = betweenReads(producer.redis, `${stack.prefix}:drawing:${deadId}`, async () => {
      deletion = producer.deleteDeadLetter(deadId).then(
        () => 'deleted',
        (error: { code?: string }) => error.code ?? String(error),
      );
      await deletion;
    });
    await producer.replayDeadLetter(deadId);
    hook.restore();

    expect(hook.after).toBeDefined();
    expect(await deletion).toBe('REPLAY_CONFLICT');
    await stack.completed(deadId);
    await waitFor(async () => (await producer.getBatch(batchId)).completed === 2, {
      what: 'the replayed item to complete',
    });
    expect(await producer.getBatch(batchId)).toMatchObject(FINISHED_ALL_COMPLETED);
  });
});
