/**
 * Redis memory per job, measured with `INFO memory` (`used_memory`) before and after N jobs
 * of one kind, each kind on its own prefix of one private redis-server, with the default
 * retention. Jobs are enqueued through the producer library (as the API does) and run by a real
 * worker against the drawing simulator; the worker is closed before each reading, so only
 * what stays in Redis is counted. Before each measurement a warm-up of the same kind fills
 * what is bounded whatever the traffic (BullMQ's event stream, its per-minute metrics, the
 * learned poll statistics, Atelier's time series), so the figure is the cost of one more job.
 *
 *   node bench/redis-memory.ts [--jobs 10000] [--warmup 3000]
 *                              [--kinds queued,pending,completed,archived,dead,batch]
 *
 * Kinds: a queued drawing (not started), a pending drawing (submitted, waiting for its next
 * poll), a retained completed drawing (budget ≤ 2 KB), a dead letter (its failed job and the
 * dead-letter entry with its indexes), and a batch item (completed, with its result line).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createProducer, type Producer } from '@atelier/producer';
import { createLogger, loadConfig } from '@atelier/shared';
import { DrawingSimulator, type DrawingSimulatorOptions } from '@atelier/simulator';
import { createRedisConnection } from '@atelier/store';
import { AtelierWorker } from '@atelier/worker';
import { Queue } from 'bullmq';
import { startRedisServer } from '../test/support/redis-server.ts';
import { fixed } from './support/stats.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '10000' },
    warmup: { type: 'string', default: '3000' },
    kinds: { type: 'string', default: 'queued,pending,completed,archived,dead,batch' },
    /** Extra redis-server arguments, e.g. "--hash-max-listpack-value 1024". */
    'redis-args': { type: 'string', default: '' },
  },
});
const KINDS = new Set(values.kinds.split(','));
const N = Number(values.jobs);
const WARMUP = Number(values.warmup);
/** Errors only: every dead letter of the dead-letter run would log a warning. */
const logger = createLogger({ name: 'bench', level: 'error' });
const REDIS_ARGS = values['redis-args'].split(' ').filter(Boolean);
const redis = await startRedisServer({ args: REDIS_ARGS });
const admin = createRedisConnection({ url: redis.url, role: 'worker' });
const results: string[] = [];
let prefixes = 0;

function report(line: string) {
  console.log(line);
  results.push(line);
}

async function usedMemory(): Promise<number> {
  const info = await admin.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

/** A deployment on its own prefix: a simulator, a producer and (when started) a worker. */
interface Deployment {
  prefix: string;
  sim: DrawingSimulator;
  producer: Producer;
  queue: Queue;
  startWorker(): Promise<AtelierWorker>;
  close(): Promise<void>;
}

async function deployment(
  simulator: DrawingSimulatorOptions,
  extraEnv: Record<string, string> = {},
): Promise<Deployment> {
  const sim = await DrawingSimulator.start({ perExtraImageMs: 0, ...simulator });
  const prefix = `mem${++prefixes}`;
  const env = {
    REDIS_URL: redis.url,
    ATELIER_QUEUE_PREFIX: prefix,
    ATELIER_WORKER_QUEUES: 'drawing',
    DRAWING_BASE_URL: sim.url,
    DRAWING_SUBMIT_PATH: sim.submitPath,
    DRAWING_QUERY_PATH: sim.queryPath,
    DRAWING_AUTH_MODE: 'none',
    DRAWING_POLL_FIRST_MS: '0',
    DRAWING_POLL_INTERVAL_MS: '1000',
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const config = loadConfig(env, 'worker');
  const connection = createRedisConnection({ url: redis.url, role: 'worker' });
  const producer = createProducer({ connection, prefix, logger });
  const queue = new Queue('drawing', { connection, prefix });
  await producer.ready();
  return {
    prefix,
    sim,
    producer,
    queue,
    startWorker: () => AtelierWorker.start({ config, logger }),
    async close() {
      await queue.close();
      await producer.close();
      connection.disconnect();
      await sim.close();
    },
  };
}

const styles = ['油画', '古风', '二次元', '水彩画'];
/** A typical request: about 40 characters of prompt, one image. */
const request = (i: number) => ({
  text: `a lighthouse at dusk, ${i % 97} gulls, waves #${i}`,
  style: styles[i % styles.length] as string,
  resolution: '1024*1024',
});

async function enqueue(producer: Producer, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, from + count - i) }, (_, k) =>
        producer.enqueueDrawing(request(i + k)),
      ),
    );
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `used_memory` per job added by `run(from, count)` (with the worker closed when reading). */
async function perJob(
  label: string,
  run: (from: number, count: number) => Promise<void>,
): Promise<number> {
  await run(0, WARMUP);
  const before = await usedMemory();
  await run(WARMUP, N);
  const after = await usedMemory();
  const bytes = (after - before) / N;
  report(`- ${label}: ${fixed(bytes, 0)} B per job (used_memory ${before} → ${after}, N = ${N})`);
  return bytes;
}

/** The fields of one job hash and their sizes (what to trim). */
async function anatomy(prefix: string, id: string): Promise<string> {
  const key = `${prefix}:drawing:${id}`;
  const fields = await admin.hkeys(key);
  const sizes = await Promise.all(fields.map((f) => admin.hstrlen(key, f)));
  const usage = (await admin.memory('USAGE', key, 'SAMPLES', '0')) ?? 0;
  const parts = fields.map((f, i) => `${f} ${sizes[i]}`).join(', ');
  return `job hash ${usage} B (MEMORY USAGE): ${parts}`;
}

// ---------------------------------------------------------------------------------------
report(
  `### Redis memory per job (N = ${N} after ${WARMUP} warm-up, default retention${REDIS_ARGS.length ? `, redis-server ${REDIS_ARGS.join(' ')}` : ''})`,
);

if (KINDS.has('queued')) {
  // Queued: enqueued, no worker running.
  const d = await deployment({});
  await perJob('queued drawing (waiting, not started)', (from, count) =>
    enqueue(d.producer, from, count),
  );
  await d.queue.obliterate({ force: true });
  await d.close();
}

if (KINDS.has('pending')) {
  // Pending: submitted, its taskId stored, waiting in the delayed set for its next poll.
  const d = await deployment({ duration: { kind: 'fixed', ms: 3_600_000 } });
  let submitted = 0;
  await perJob('pending drawing (submitted, waiting for its next poll)', async (from, count) => {
    const worker = await d.startWorker();
    await enqueue(d.producer, from, count);
    submitted += count;
    await until(
      'every task to be submitted',
      async () => (await d.queue.getDelayedCount()) === submitted,
    );
    await worker.close();
  });
  const [sample] = await d.queue.getDelayed(0, 0);
  report(`  - ${await anatomy(d.prefix, sample?.id ?? '')}`);
  await d.queue.obliterate({ force: true });
  await d.close();
}

if (KINDS.has('completed')) {
  // Completed and retained (removeOnComplete: 7 days or 100,000 per queue).
  const d = await deployment({ duration: { kind: 'fixed', ms: 0 } });
  let done = 0;
  const bytes = await perJob('retained completed drawing (one image)', async (from, count) => {
    const worker = await d.startWorker();
    await enqueue(d.producer, from, count);
    done += count;
    await until('every job to complete', async () => (await d.queue.getCompletedCount()) === done);
    await worker.close();
  });
  const [sample] = await d.queue.getCompleted(0, 0);
  report(`  - ${await anatomy(d.prefix, sample?.id ?? '')}`);
  report(`  - budget ≤ 2048 B: ${bytes <= 2048 ? 'met' : '**missed**'}`);
  const events = `${d.prefix}:drawing:events`;
  report(
    `  - bounded whatever the traffic (not in the figure): the queue's event stream ${fixed(((await admin.memory('USAGE', events, 'SAMPLES', '0')) ?? 0) / 1024, 0)} KB for ${await admin.xlen(events)} events, the time series ${fixed((await keyBytes(`${d.prefix}:sys:stats:*`)) / 1024, 0)} KB so far`,
  );
  await d.queue.obliterate({ force: true });
  await d.close();
}

if (KINDS.has('archived')) {
  // Completed with its image archived (ATELIER_IMAGE_STORE): result.archived as well.
  const dir = mkdtempSync(join(tmpdir(), 'atelier-bench-images-'));
  const d = await deployment(
    { duration: { kind: 'fixed', ms: 0 } },
    { ATELIER_IMAGE_STORE: `fs:${dir}`, ATELIER_IMAGE_ALLOW_PRIVATE: 'true' },
  );
  let done = 0;
  const bytes = await perJob(
    'retained completed drawing, its image archived (fs store)',
    async (from, count) => {
      const worker = await d.startWorker();
      await enqueue(d.producer, from, count);
      done += count;
      await until(
        'every job to complete',
        async () => (await d.queue.getCompletedCount()) === done,
      );
      await worker.close();
    },
  );
  const [sample] = await d.queue.getCompleted(0, 0);
  report(`  - ${await anatomy(d.prefix, sample?.id ?? '')}`);
  report(`  - budget ≤ 2048 B: ${bytes <= 2048 ? 'met' : '**missed**'}`);
  await d.queue.obliterate({ force: true });
  await d.close();
  rmSync(dir, { recursive: true, force: true });
}

if (KINDS.has('dead')) {
  // Dead: the provider refuses every submit (202): a failed job plus its dead letter.
  const d = await deployment({ faults: { submitCodeRates: { 202: 1 } } });
  let dead = 0;
  let dlqBefore = 0;
  await perJob('dead letter (its failed job + the entry and its indexes)', async (from, count) => {
    const worker = await d.startWorker();
    if (from === WARMUP) dlqBefore = await keyBytes(`${d.prefix}:sys:dlq:*`);
    await enqueue(d.producer, from, count);
    dead += count;
    await until(
      'every job to be dead-lettered',
      async () => (await d.queue.getFailedCount()) === dead,
    );
    await until(
      'every dead letter to be filed',
      async () => (await d.producer.listDeadLetters({}, { limit: 1 })).total === dead,
    );
    await worker.close();
  });
  const dlqAfter = await keyBytes(`${d.prefix}:sys:dlq:*`);
  report(
    `  - of which the dead-letter entry and its indexes: ${fixed((dlqAfter - dlqBefore) / N, 0)} B (MEMORY USAGE of the dlq keys)`,
  );
  await d.queue.obliterate({ force: true });
  await d.close();
}

if (KINDS.has('batch')) {
  // Batch items: a batch of N items, all completed: the job and the result line in the ledger.
  const d = await deployment({ duration: { kind: 'fixed', ms: 0 } });
  let done = 0;
  let ledgerBefore = 0;
  await perJob('batch item, completed (its job + its result line)', async (from, count) => {
    const worker = await d.startWorker();
    if (from === WARMUP) ledgerBefore = await keyBytes(`${d.prefix}:sys:batch*`);
    await d.producer.createBatch(Array.from({ length: count }, (_, k) => request(from + k)));
    done += count;
    await until('every item to complete', async () => (await d.queue.getCompletedCount()) === done);
    await worker.close();
  });
  const ledgerAfter = await keyBytes(`${d.prefix}:sys:batch*`);
  report(
    `  - of which the batch ledger (result line, record): ${fixed((ledgerAfter - ledgerBefore) / N, 0)} B`,
  );
  await d.queue.obliterate({ force: true });
  await d.close();
}

/** MEMORY USAGE summed over the keys matching `pattern`. */
async function keyBytes(pattern: string): Promise<number> {
  let total = 0;
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) total += (await admin.memory('USAGE', key, 'SAMPLES', '0')) ?? 0;
  } while (cursor !== '0');
  return total;
}

admin.disconnect();
await redis.stop();
console.log(`\n${results.join('\n')}`);
