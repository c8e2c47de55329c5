import { createRedisConnection } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { DrawingStack } from '../support/drawing-stack.ts';
import { type EntryProcess, nonJsonLines, startEntryProcess } from '../support/entry-process.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { freePort, type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { waitFor } from '../support/wait-for.ts';

/** `ATELIER_SHUTDOWN_GRACE_MS` of these tests: every process must be gone 5 s after it. */
const GRACE_MS = 1000;
const EXIT_LIMIT_MS = GRACE_MS + 5000;

/** Connections of the test itself stay quiet while Redis is away (they reconnect by themselves). */
class QuietContext extends RedisTestContext {
  override connection(role?: 'worker' | 'producer') {
    const connection = super.connection(role);
    connection.on('error', () => undefined);
    return connection;
  }
}

/** A redis-server of the test's own, to kill, freeze and bring back. */
class PrivateRedis {
  readonly ctx: RedisTestContext;
  #server: RedisServer;
  #frozen = false;

  private constructor(server: RedisServer) {
    this.#server = server;
    this.ctx = new QuietContext(server.url);
  }

  static async start(): Promise<PrivateRedis> {
    return new PrivateRedis(await startRedisServer());
  }

  get url(): string {
    return this.#server.url;
  }

  async kill(): Promise<void> {
    await this.#server.kill();
  }

  /** SIGSTOP: connections stay open and nothing answers. */
  freeze(): void {
    this.#server.process.kill('SIGSTOP');
    this.#frozen = true;
  }

  /** Answering again: thawed, or started anew on the same port. */
  async restore(): Promise<void> {
    if (this.#frozen) {
      this.#server.process.kill('SIGCONT');
      this.#frozen = false;
    }
    const { process } = this.#server;
    if (process.exitCode !== null || process.signalCode !== null) {
      this.#server = await startRedisServer({ port: this.#server.port });
    }
  }

  async close(): Promise<void> {
    await this.restore();
    await this.ctx.cleanup();
    await this.#server.stop();
  }
}

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
});

async function privateRedis(): Promise<PrivateRedis> {
  const redis = await PrivateRedis.start();
  closers.push(() => redis.close());
  return redis;
}

async function startWorker(env: Record<string, string>): Promise<EntryProcess> {
  const worker = await startEntryProcess('worker', env, (line) =>
    line.includes('"msg":"worker started"'),
  );
  closers.push(() => worker.kill());
  return worker;
}

/** A drawing stack whose one job is held mid-poll (the provider answers after 20 s). */
async function heldJob(redis: PrivateRedis, graceMs = GRACE_MS) {
  const stack = await DrawingStack.start(redis.ctx);
  stack.sim.script('held', { query: [{ delayMs: 20_000 }] });
  const worker = await startWorker({ ...stack.env, ATELIER_SHUTDOWN_GRACE_MS: String(graceMs) });
  const id = await stack.enqueue({ text: 'held' });
  await waitFor(
    async () => {
      // The query reached the provider (held 20 s): the poll is in flight. Active with a taskId
      // alone also matches the submit's run just before it moves to the delayed set.
      if (stack.sim.counters().queries === 0) return false;
      const job = await stack.job(id);
      return job?.data.state?.taskId && (await job.getState()) === 'active';
    },
    { what: 'the job mid-poll' },
  );
  return { stack, worker, id };
}

describe('shutdown is bounded whatever Redis does', () => {
  it('worker: SIGTERM as Redis dies, a job in hand: gone within grace + 5 s, said in JSON lines', async () => {
    const redis = await privateRedis();
    const { worker } = await heldJob(redis);

    await redis.kill();
    const stopped = await worker.stopWithin(EXIT_LIMIT_MS);

    expect(stopped, worker.lines().slice(-5).join('\n')).toBeDefined();
    expect(worker.stdout()).toContain('grace period over: handing active jobs back');
    expect(worker.stdout()).toContain('forcing');
    expect(nonJsonLines(worker.lines())).toEqual([]);
  });

  it('worker: SIGTERM while Redis is frozen (no answers, sockets open): gone within grace + 5 s', async () => {
    const redis = await privateRedis();
    const { worker } = await heldJob(redis);

    redis.freeze();
    const stopped = await worker.stopWithin(EXIT_LIMIT_MS);

    expect(stopped, worker.lines().slice(-5).join('\n')).toBeDefined();
    expect(nonJsonLines(worker.lines())).toEqual([]);
  });

  it('worker: a second SIGTERM exits at once, whatever the first is waiting for', async () => {
    const redis = await privateRedis();
    const { worker } = await heldJob(redis, 30_000);

    worker.process.kill('SIGTERM');
    await waitFor(() => worker.stdout().includes('stopping: finishing active jobs'), {
      what: 'the first SIGTERM heard',
    });
    const stopped = await worker.stopWithin(2000);

    expect(stopped?.code).toBe(1);
    expect(worker.stdout()).toContain('second signal while stopping: exiting now');
  });

  it('API busy with reads: SIGTERM while Redis is frozen: gone within grace + 5 s', async () => {
    const redis = await privateRedis();
    const port = await freePort();
    const api = await startEntryProcess(
      'api',
      {
        REDIS_URL: redis.url,
        ATELIER_QUEUE_PREFIX: redis.ctx.prefix('api'),
        ATELIER_API_KEYS: 'outage-test-key',
        ATELIER_SHUTDOWN_GRACE_MS: String(GRACE_MS),
        HOST: '127.0.0.1',
        PORT: String(port),
      },
      (line) => line.includes('"msg":"Atelier API listening"'),
    );
    closers.push(() => api.kill());
    let reading = true;
    let answered = 0;
    const lane = async () => {
      while (reading) {
        await fetch(`http://127.0.0.1:${port}/v1/jobs/dr_absent`, {
          headers: { authorization: 'Bearer outage-test-key' },
        }).then(
          async (answer) => {
            await answer.text();
            answered++;
          },
          () => undefined,
        );
      }
    };
    const lanes = Array.from({ length: 8 }, lane);
    closers.push(async () => {
      reading = false;
      await Promise.all(lanes);
    });
    await waitFor(() => answered > 20, { what: 'reads answered' });

    redis.freeze();
    const stopped = await api.stopWithin(EXIT_LIMIT_MS);

    expect(stopped, api.lines().slice(-5).join('\n')).toBeDefined();
    expect(nonJsonLines(api.lines())).toEqual([]);
  });
});

describe('no silent deaths', () => {
  it('worker: Redis away and back: only JSON lines, and the process works on', async () => {
    const redis = await privateRedis();
    const stack = await DrawingStack.start(redis.ctx);
    const worker = await startWorker({
      ...stack.env,
      ATELIER_WORKER_QUEUES: 'drawing,callbacks',
      ATELIER_CALLBACK_SECRET: 'outage-test-callback-secret',
    });

    await redis.kill();
    await waitFor(() => worker.stdout().split('ECONNREFUSED').length > 6, {
      what: 'reconnects to fail a few times',
    });
    await redis.restore();
    const id = await stack.enqueue({ text: 'after the outage' });
    await stack.completed(id, 20_000);

    expect(worker.process.exitCode).toBeNull();
    expect(nonJsonLines(worker.lines())).toEqual([]);
  });

  it('worker: a background write of learned poll timing that fails is logged; the process lives', async () => {
    const redis = await privateRedis();
    const stack = await DrawingStack.start(redis.ctx);
    // The first poll's answer comes late: in between, Redis starts refusing writes.
    stack.sim.script('refused write', { query: [{ delayMs: 1500 }] });
    const worker = await startWorker(stack.env);
    const admin = createRedisConnection({ url: redis.url, role: 'worker' });
    closers.push(async () => admin.disconnect());
    closers.push(() => admin.replicaof('NO', 'ONE'));

    await stack.enqueue({ text: 'refused write' });
    await waitFor(() => stack.sim.counters().queries >= 1, { what: 'the first poll sent' });
    await admin.replicaof('127.0.0.1', String(await freePort()));
    await waitFor(
      () =>
        worker
          .lines()
          .some((line) => line.includes('learned statistics') && line.includes('READONLY')),
      { what: 'the failed write logged', timeoutMs: 15_000 },
    );
    await admin.replicaof('NO', 'ONE');

    expect(worker.process.exitCode).toBeNull();
    const id = await stack.enqueue({ text: 'still working' });
    await stack.completed(id, 30_000);
    expect(nonJsonLines(worker.lines())).toEqual([]);
  });
});
