import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProducer } from '@atelier/producer';
import { afterEach, describe, expect, it } from 'vitest';
import { startChildWorker } from '../support/child-worker.ts';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const FAST_STALLS = { TEST_LOCK_DURATION_MS: '1000', TEST_STALLED_INTERVAL_MS: '300' };

async function journalDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-journal-'));
  ctx.onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A child worker that reaches Redis through a proxy, killed (SIGKILL) right after the provider
 * answered its submit and before the taskId could reach Redis: the proxy stalls once the
 * provider has the submit (its answer is held back a second), and the worker is killed once it
 * has sent the taskId write that the stall keeps from Redis.
 */
async function killedAfterTheAnswer(stack: DrawingStack, text: string, journal: string) {
  const proxy = await TcpProxy.start({ port: Number(new URL(ctx.url).port) });
  ctx.onCleanup(() => proxy.close());
  stack.sim.script(text, { submit: [{ delayMs: 1000 }] });
  const child = await startChildWorker({
    ...stack.env,
    ...FAST_STALLS,
    REDIS_URL: proxy.redisUrl,
    ATELIER_JOURNAL_DIR: journal,
  });
  ctx.onCleanup(() => child.kill());
  const id = await stack.enqueue({ text });
  await waitFor(() => stack.sim.submitsFor(text) === 1, { what: 'the submit at the provider' });
  proxy.stall();
  await waitFor(() => proxy.heldFromClients().includes('"taskId"'), {
    what: 'the worker sending the taskId to Redis',
  });
  await child.kill();
  return id;
}

describe('a worker killed between the paid submit and saving its taskId', () => {
  it('restarted on the same journal dir, it hands the taskId to the job: one submit, completed', async () => {
    const stack = await DrawingStack.start(ctx);
    const text = 'killed after the answer, same disk';
    const journal = await journalDir();
    const id = await killedAfterTheAnswer(stack, text, journal);
    expect((await stack.job(id))?.data.state?.taskId).toBeUndefined();

    const restarted = await startChildWorker({
      ...stack.env,
      ...FAST_STALLS,
      ATELIER_JOURNAL_DIR: journal,
    });
    ctx.onCleanup(() => restarted.kill());

    const job = await stack.completed(id, 20_000);
    expect(stack.sim.submitsFor(text)).toBe(1);
    expect(stack.sim.counters().tasksCreated).toBe(1);
    expect(job.returnvalue.images).toHaveLength(1);
    expect(job.data.state?.unconfirmedSubmits ?? 0).toBe(0);
  });

  it('restarted without that journal: dead-lettered SUBMIT_UNCONFIRMED, not submitted again until a replay', async () => {
    const stack = await DrawingStack.start(ctx);
    const text = 'killed after the answer, disk lost';
    const id = await killedAfterTheAnswer(stack, text, await journalDir());

    const elsewhere = await startChildWorker({
      ...stack.env,
      ...FAST_STALLS,
      ATELIER_JOURNAL_DIR: await journalDir(),
    });
    ctx.onCleanup(() => elsewhere.kill());

    const entry = await stack.dead(id, 20_000);
    expect(entry.code).toBe('SUBMIT_UNCONFIRMED');
    expect(entry.taskId).toBeUndefined();
    expect(entry.history.map((h) => h.code)).toContain('SUBMIT_UNCONFIRMED');
    expect(stack.sim.submitsFor(text)).toBe(1);
    const job = await stack.job(id);
    expect(job?.data.state?.unconfirmedSubmits).toBe(1);

    // An operator who checked the provider replays it knowingly: it submits once more.
    const producer = createProducer({ connection: ctx.connection(), prefix: stack.prefix });
    ctx.onCleanup(() => producer.close());
    await producer.replayDeadLetter(id);
    const replayed = await stack.completed(id, 20_000);
    expect(stack.sim.submitsFor(text)).toBe(2);
    expect(replayed.data.state?.unconfirmedSubmits).toBe(1);
    expect(replayed.data.meta.replays).toBe(1);
  });
});
