import { createProducer } from '@atelier/producer';
import { createLogger, loadConfig } from '@atelier/shared';
import { CmeSimulator, DrawingSimulator } from '@atelier/simulator';
import { AtelierWorker } from '@atelier/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.ts';
import { waitFor } from '../support/wait-for.ts';

const logger = createLogger({ name: 'cluster-test', level: 'warn' });
let cluster: RedisCluster;
let drawing: DrawingSimulator;
let cme: CmeSimulator;
let worker: AtelierWorker;
let producer: ReturnType<typeof createProducer>;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  drawing = await DrawingSimulator.start({
    duration: { kind: 'fixed', ms: 200 },
    auth: { mode: 'apig', apps: { 'cluster-key': 'cluster-secret' } },
  });
  cme = await CmeSimulator.start({
    secretId: 'AKIDcluster',
    secretKey: 'cluster-cme-key',
    platform: 'p1',
  });
  const config = loadConfig(
    {
      REDIS_URL: cluster.url,
      // The hash tag puts every key of the deployment in one slot (BullMQ's and Atelier's Lua need it).
      ATELIER_QUEUE_PREFIX: '{atelier-cluster}',
      DRAWING_BASE_URL: drawing.url,
      DRAWING_SUBMIT_PATH: drawing.submitPath,
      DRAWING_QUERY_PATH: drawing.queryPath,
      DRAWING_AUTH_MODE: 'apig',
      DRAWING_APP_KEY: 'cluster-key',
      DRAWING_APP_SECRET: 'cluster-secret',
      DRAWING_POLL_FIRST_MS: '100',
      DRAWING_POLL_INTERVAL_MS: '100',
      DRAWING_POLL_MAX_INTERVAL_MS: '200',
      CME_LOGIN_URL: cme.loginUrl,
      CME_API_BASE_URL: cme.apiBaseUrl,
      CME_PLATFORM: 'p1',
      CME_SECRET_ID: 'AKIDcluster',
      CME_SECRET_KEY: 'cluster-cme-key',
      ATELIER_RETRY_BASE_MS: '20',
    },
    'worker',
  );
  worker = await AtelierWorker.start({ config, logger });
  producer = createProducer({ redisUrl: cluster.url, prefix: config.queuePrefix, logger });
  await producer.ready(10_000);
}, 60_000);

afterAll(async () => {
  await producer?.close();
  await worker?.close(0);
  await drawing?.close();
  await cme?.close();
  await cluster?.stop();
});

describe('the core flow on a 3-master Redis Cluster (hash-tagged prefix)', () => {
  it('a drawing is submitted once, polled and completed', async () => {
    const { id } = await producer.enqueueDrawing({
      text: '集群里的猫',
      style: '油画',
      resolution: '1024*1024',
    });
    const job = await waitFor(
      async () => {
        const status = await producer.getJob(id);
        return status.state === 'completed' ? status : undefined;
      },
      { timeoutMs: 20_000, what: 'the drawing to complete' },
    );
    expect(job.result).toMatchObject({ images: [expect.any(String)] });
    expect(drawing.submitsFor('集群里的猫')).toBe(1);
  });

  it('a terminal answer lands in the dead-letter queue, and a replay completes it', async () => {
    drawing.script('blocked on cluster', { submit: [{ code: 202 }] });
    const { id } = await producer.enqueueDrawing({
      text: 'blocked on cluster',
      style: '油画',
      resolution: '1024*1024',
    });
    await waitFor(async () => (await producer.getJob(id)).state === 'dead', {
      timeoutMs: 20_000,
      what: 'dead',
    });
    expect((await producer.getDeadLetter(id)).code).toBe('202');
    await producer.replayDeadLetter(id);
    await waitFor(async () => (await producer.getJob(id)).state === 'completed', {
      timeoutMs: 20_000,
      what: 'replayed',
    });
  });

  it('a CME operation runs with a ticket kept in the cluster', async () => {
    const [material] = cme.seed({
      materials: [{ owner: { Type: 'PERSON', Id: 'u1' } }],
    }).materialIds;
    const { id } = await producer.enqueueCmeOperation({
      userId: 'u1',
      action: 'Material/DeleteMaterial',
      params: { MaterialId: material as string },
    });
    await waitFor(async () => (await producer.getJob(id)).state === 'completed', {
      timeoutMs: 20_000,
      what: 'CME',
    });
    expect(cme.counters().logins.total).toBe(1);
  });

  it('a batch completes with exact counters and results in order', async () => {
    const items = Array.from({ length: 20 }, (_, i) => ({
      text: `batch ${i}`,
      style: '油画',
      resolution: '1024*1024',
    }));
    const { id, total } = await producer.createBatch(items);
    expect(total).toBe(20);
    const batch = await waitFor(
      async () => {
        const info = await producer.getBatch(id);
        return info.state === 'completed' ? info : undefined;
      },
      { timeoutMs: 30_000, what: 'the batch' },
    );
    expect(batch).toMatchObject({ total: 20, completed: 20, dead: 0, pending: 0 });
    const lines = [];
    for await (const line of producer.batchResults(id)) lines.push(line);
    expect(lines.map((l) => l.index)).toEqual(items.map((_, i) => i));
  });
});
