/**
 * Fair share between tenants, against the simulator, with one worker process whose slots each
 * task holds about a second (its submit is answered BENCH_SUBMIT_MS, 1000 ms, after it is sent;
 * the drawing itself is instant and its poll answered at once):
 *
 *   contention  tenant A queues a BENCH_A_ITEMS (2,000) item batch; BENCH_B_DELAY_MS (2 s) later
 *               tenant B queues a BENCH_B_ITEMS (50) item one. With fair share: B's batch
 *               completes before A has completed 20 % of its own; the same run first in, first
 *               out (ATELIER_FAIR_SHARE=false) shows the contrast.
 *   alone       A's batch alone, with fair share on and off: the same throughput (parking and
 *               admission cost nothing a worker waits on).
 *
 *   node bench/fairness.ts [contention|alone ...]   (default: both)
 *
 * Environment: BENCH_A_ITEMS, BENCH_B_ITEMS, BENCH_B_DELAY_MS, BENCH_SUBMIT_MS, BENCH_CONCURRENCY
 * (the worker's DRAWING_CONCURRENCY, default 40: throughput about 40 tasks a second).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { batchItemJobId, createProducer, type Producer } from '@atelier/producer';
import { createLogger, QUEUE_NAMES } from '@atelier/shared';
import { createRedisConnection } from '@atelier/store';
import { Queue } from 'bullmq';
import { startChildWorker } from '../test/support/child-worker.ts';
import { startRedisServer } from '../test/support/redis-server.ts';
import { startSimulatorProcess } from './support/simulator-process.ts';
import { fixed } from './support/stats.ts';

const env = process.env;
const A_ITEMS = Number(env.BENCH_A_ITEMS ?? 2000);
const B_ITEMS = Number(env.BENCH_B_ITEMS ?? 50);
const B_DELAY_MS = Number(env.BENCH_B_DELAY_MS ?? 2000);
const SUBMIT_MS = Number(env.BENCH_SUBMIT_MS ?? 1000);
const CONCURRENCY = Number(env.BENCH_CONCURRENCY ?? 40);

const parts = process.argv.slice(2);
const wants = (part: string) => parts.length === 0 || parts.includes(part);
const redis = await startRedisServer();
const connection = createRedisConnection({ url: redis.url, role: 'worker' });
const sim = await startSimulatorProcess({ SIMULATOR_DRAWING_DURATION_MS: '0' });

/** Each item's submit is answered SUBMIT_MS after it is sent (a script per item text). */
async function slowSubmits(texts: readonly string[]): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < texts.length) {
      const text = texts[next++];
      const res = await fetch(`${sim.drawing.baseUrl}/__admin/script`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text, submit: [{ delayMs: SUBMIT_MS }] }),
      });
      if (!res.ok) throw new Error(`scripting the simulator failed: ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
}
const textOf = (tenant: string, i: number) => `${tenant} ${i}`;
const logger = createLogger({ name: 'bench-fairness', level: 'warn' });
let runs = 0;

interface BatchRun {
  /** Epoch ms of each item's completion, in input order. */
  finished: number[];
  queuedAt: number;
}

/** One run on a fresh prefix: a worker, a producer, then each batch queued at its offset. */
async function run(
  fairShare: boolean,
  batches: Array<{ tenant: string; items: number; afterMs: number }>,
): Promise<BatchRun[]> {
  const prefix = `fair${++runs}`;
  await slowSubmits(
    batches.flatMap(({ tenant, items }) =>
      Array.from({ length: items }, (_, i) => textOf(tenant, i)),
    ),
  );
  const journal = mkdtempSync(join(tmpdir(), 'atelier-bench-journal-'));
  const worker = await startChildWorker(
    {
      REDIS_URL: redis.url,
      ATELIER_QUEUE_PREFIX: prefix,
      ATELIER_WORKER_QUEUES: 'drawing',
      DRAWING_BASE_URL: sim.drawing.baseUrl,
      DRAWING_SUBMIT_PATH: sim.drawing.submitPath,
      DRAWING_QUERY_PATH: sim.drawing.queryPath,
      DRAWING_AUTH_MODE: 'none',
      DRAWING_CONCURRENCY: String(CONCURRENCY),
      // The task is done at once: poll right after the submit (no learning to wait for).
      DRAWING_POLL_FIRST_MS: '0',
      DRAWING_REQUEST_TIMEOUT_MS: String(SUBMIT_MS + 10_000),
      ATELIER_JOURNAL_DIR: journal,
      LOG_LEVEL: 'info',
    },
    { entry: 'real' },
  );
  const producer = createProducer({ redisUrl: redis.url, prefix, fairShare, logger });
  await producer.ready();
  const queue = new Queue(QUEUE_NAMES.drawing, { connection, prefix });
  try {
    const started = Date.now();
    const created = await Promise.all(
      batches.map(async ({ tenant, items, afterMs }) => {
        await sleep(afterMs);
        const queuedAt = Date.now();
        const { id } = await producer.forTenant(tenant).createBatch(
          Array.from({ length: items }, (_, i) => ({
            text: textOf(tenant, i),
            style: '油画',
            resolution: '1024*1024',
          })),
        );
        return { id, items, queuedAt };
      }),
    );
    for (const { id } of created) await untilDone(producer, id, started);
    return Promise.all(
      created.map(async ({ id, items, queuedAt }) => ({
        queuedAt,
        finished: await finishedOn(queue, id, items),
      })),
    );
  } finally {
    await queue.close();
    await producer.close();
    await worker.terminate();
    rmSync(journal, { recursive: true, force: true });
  }
}

async function untilDone(producer: Producer, id: string, started: number): Promise<void> {
  for (;;) {
    const batch = await producer.getBatch(id);
    if (batch.state === 'completed') return;
    if (Date.now() - started > 30 * 60_000) throw new Error(`batch ${id} did not complete`);
    await sleep(200);
  }
}

/**
 * When each item completed (BullMQ's `finishedOn`), in input order: read once BullMQ recorded
 * every one (the ledger settles an item just before BullMQ completes its job).
 */
async function finishedOn(queue: Queue, batchId: string, items: number): Promise<number[]> {
  for (;;) {
    const reads = connection.pipeline();
    for (let i = 0; i < items; i++) {
      reads.hget(queue.toKey(batchItemJobId(batchId, i)), 'finishedOn');
    }
    const replies = (await reads.exec()) ?? [];
    const finished = replies.map(([, value]) => Number(value ?? 0));
    if (finished.every((at) => at > 0)) return finished;
    await sleep(100);
  }
}

/** Items completed per second from the first completion to the last. */
function throughput(finished: number[]): number {
  const first = Math.min(...finished);
  const last = Math.max(...finished);
  return finished.length / Math.max(0.001, (last - first) / 1000);
}

const lines: string[] = [];
function report(line: string) {
  console.log(line);
  lines.push(line);
}

report(
  `one worker, DRAWING_CONCURRENCY=${CONCURRENCY}, each submit answered after ${SUBMIT_MS} ms (a task holds its slot that long; the drawing is instant); A: ${A_ITEMS} items, B: ${B_ITEMS} items ${B_DELAY_MS / 1000} s later`,
);

if (wants('contention')) {
  for (const fairShare of [true, false]) {
    const [a, b] = (await run(fairShare, [
      { tenant: 'tenant-a', items: A_ITEMS, afterMs: 0 },
      { tenant: 'tenant-b', items: B_ITEMS, afterMs: B_DELAY_MS },
    ])) as [BatchRun, BatchRun];
    const bDone = Math.max(...b.finished);
    const aDoneThen = a.finished.filter((at) => at <= bDone).length;
    const aDone = Math.max(...a.finished);
    report(
      `contention, fair share ${fairShare ? 'on ' : 'off'}: B done ${fixed((bDone - b.queuedAt) / 1000, 1)} s after it was queued, when A had ${aDoneThen}/${A_ITEMS} (${fixed((100 * aDoneThen) / A_ITEMS, 1)} %); A done ${fixed((aDone - a.queuedAt) / 1000, 1)} s after it was queued`,
    );
  }
}

if (wants('alone')) {
  const rates: Record<string, number> = {};
  for (const fairShare of [true, false]) {
    const [a] = (await run(fairShare, [{ tenant: 'tenant-a', items: A_ITEMS, afterMs: 0 }])) as [
      BatchRun,
    ];
    const label = fairShare ? 'on' : 'off';
    rates[label] = throughput(a.finished);
    report(
      `A alone, fair share ${label.padEnd(3)}: ${fixed(rates[label] ?? 0, 1)} items/s, done ${fixed((Math.max(...a.finished) - a.queuedAt) / 1000, 1)} s after it was queued`,
    );
  }
  report(`A alone, throughput on/off: ${fixed((rates.on ?? 0) / (rates.off ?? 1), 3)}`);
}

connection.disconnect();
await sim.stop();
await redis.stop();
