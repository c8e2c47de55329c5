import { QUEUE_NAMES } from '@atelier/shared';
import { AtelierWorker } from '@atelier/worker';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger } from '../support/capture-logger.ts';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const FAST_LOCKS = { lockDuration: 1000, stalledInterval: 300 };

/**
 * Worker A reaches Redis through a proxy the test can stall (a partition that heals: its
 * commands wait, then land late); worker B, started once A is cut off, reaches it directly and
 * takes A's job over when A's lock lapses.
 */
async function twoWorkers(stack: DrawingStack) {
  const proxy = await TcpProxy.start({ port: Number(new URL(ctx.url).port) });
  ctx.onCleanup(() => proxy.close());
  const logsA = captureLogger();
  const a = await AtelierWorker.start({
    config: stack.config,
    logger: logsA.logger,
    redisUrl: proxy.redisUrl,
    workerOptions: FAST_LOCKS,
  });
  ctx.onCleanup(() => a.close(0));
  return {
    proxy,
    logsA,
    /** Waits until A's run in flight has ended (A takes no more jobs). */
    async runOfAEnded(timeoutMs = 10_000) {
      let ended = false;
      void a.queues[0]?.worker.pause().then(() => {
        ended = true;
      });
      await waitFor(() => ended, { timeoutMs, what: "A's run to end" });
    },
    /** Cuts A off and starts B. */
    async cutAndTakeOver() {
      proxy.stall();
      await stack.startWorker(FAST_LOCKS);
    },
  };
}

describe('a worker cut off from Redis longer than its lock, while another takes its job over', () => {
  it('cannot dead-letter a job the new owner completed: no dead letter, the batch item and callback stay completed', async () => {
    const stack = await DrawingStack.start(ctx, {
      env: { ATELIER_CALLBACK_SECRET: 'callback-secret-for-tests' },
    });
    const callbacks = new Queue(QUEUE_NAMES.callbacks, {
      connection: ctx.connection(),
      prefix: stack.prefix,
    });
    ctx.onCleanup(() => callbacks.close());
    const text = 'fenced dead letter';
    // A's poll is answered "failed" (terminal) a moment after A is cut off; B's poll finds it done.
    stack.sim.script(text, { query: [{ status: 9, delayMs: 300 }] });
    const { proxy, logsA, runOfAEnded, cutAndTakeOver } = await twoWorkers(stack);
    const batchId = 'b-fenced';
    const id = await stack.enqueueBatchItem(
      { text },
      { batchId, callbackUrl: 'https://example.com/hook' },
    );
    const ledger = stack.batches;
    await waitFor(() => stack.sim.counters().queries === 1, { what: "A's poll at the provider" });
    await cutAndTakeOver();

    const job = await stack.completed(id, 20_000);
    await waitFor(() => proxy.heldFromClients().includes('STATUS_9'), {
      what: "A's writes of its dead-lettering, held by the cut",
    });
    proxy.restore();
    await runOfAEnded();

    expect(await stack.deadLetters.get(id)).toBeUndefined();
    expect(await job.getState()).toBe('completed');
    const stored = await stack.job(id);
    expect(stored?.data.history ?? []).toEqual([]);
    expect(await ledger.get(batchId)).toMatchObject({ completed: 1, dead: 0, state: 'completed' });
    expect((await ledger.results(batchId, 0, 1))[0]?.state).toBe('completed');
    expect(await callbacks.getJob(`${id}.completed.0`)).toBeDefined();
    expect(await callbacks.getJob(`${id}.dead.0`)).toBeUndefined();
    expect(stack.sim.submitsFor(text)).toBe(1);
    expect(logsA.text()).toContain("lost the job's lock");
  });

  it("cannot overwrite the new owner's taskId with the task of its own lost submit", async () => {
    const stack = await DrawingStack.start(ctx, { env: { DRAWING_UNCONFIRMED_SUBMIT_LIMIT: '1' } });
    const text = 'fenced taskId';
    // A's submit is answered a moment after A is cut off; B finds the submit unconfirmed and,
    // within the limit, submits again.
    stack.sim.script(text, { submit: [{ delayMs: 300 }] });
    const { proxy, logsA, runOfAEnded, cutAndTakeOver } = await twoWorkers(stack);
    const id = await stack.enqueue({ text });
    await waitFor(() => stack.sim.submitsFor(text) === 1, { what: "A's submit at the provider" });
    await cutAndTakeOver();

    const job = await stack.completed(id, 20_000);
    await waitFor(() => proxy.heldFromClients().includes('"taskId"'), {
      what: "A's taskId write, held by the cut",
    });
    proxy.restore();
    await runOfAEnded();

    const stored = await stack.job(id);
    expect(stored?.data.state?.taskId).toBe(job.returnvalue.taskId);
    expect(stored?.data.state?.unconfirmedSubmits).toBe(1);
    expect(stack.sim.submitsFor(text)).toBe(2);
    expect(logsA.text()).toContain("lost the job's lock");
  });

  it('stops its work when BullMQ cannot renew the lock: the run in flight is aborted, nothing written', async () => {
    const stack = await DrawingStack.start(ctx, { env: { DRAWING_REQUEST_TIMEOUT_MS: '120000' } });
    const text = 'aborted on lock loss';
    // A's poll hangs; B's poll finds the task done.
    stack.sim.script(text, { query: [{ delayMs: 60_000 }] });
    const { proxy, logsA, runOfAEnded, cutAndTakeOver } = await twoWorkers(stack);
    const id = await stack.enqueue({ text });
    await waitFor(() => stack.sim.counters().queries === 1, { what: "A's poll at the provider" });
    await cutAndTakeOver();
    const job = await stack.completed(id, 20_000);

    proxy.restore();
    // Long before its 60 s poll would have ended.
    await runOfAEnded(10_000);
    expect(await job.getState()).toBe('completed');
    expect(await stack.deadLetters.get(id)).toBeUndefined();
    expect(stack.sim.submitsFor(text)).toBe(1);
    expect(logsA.text()).toContain("lost the job's lock");
    expect(logsA.text()).toContain('renewing its lock');
  });
});
