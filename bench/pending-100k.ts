/**
 * 100,000 drawing tasks pending at once in ONE worker process (the worker in its own process,
 * configured and flagged like `pnpm --filter @atelier/worker start`, the simulator in another).
 * Targets: peak RSS of the worker < 300 MB, poll lateness p99 < 1 s, every task completes.
 *
 * The schedule is chosen so the work fits one process. Callers enqueue at a steady
 * BENCH_ENQUEUE_PER_SEC (400/s: 100k in about 250 s); the worker submits each at once, so
 * that is also its submit rate. Every task takes BENCH_TASK_MS (300 s) at the provider:
 * longer than the whole enqueue phase, so the last task is submitted before the first one
 * finishes and all 100k are pending at once. Polls: the first is configured just after a task
 * is done (DRAWING_POLL_FIRST_MS = task + 2 s), then every 5–30 s, and a query is worth 30 s of
 * detection delay to the learned schedule (DRAWING_POLL_COST_MS=30000, BENCH_POLL_COST_MS; the
 * default 1500 spends about two polls on each of these tasks): about one poll per task, so
 * polls arrive at about the enqueue rate, 400/s, within what one process does
 * (bench/RESULTS.md), instead of 100k / 5 s = 20,000/s with a fixed 5 s interval.
 *
 *   node bench/pending-100k.ts
 *   BENCH_PENDING_TASKS, BENCH_ENQUEUE_PER_SEC, BENCH_TASK_MS override the defaults;
 *   BENCH_WORKER_FLAGS adds node flags to the worker process.
 */
import { createRedisConnection } from '@atelier/store';
import { Queue } from 'bullmq';
import { startRedisServer } from '../test/support/redis-server.ts';
import { addDrawings, untilCompleted } from './support/drawing-jobs.ts';
import { startSimulatorProcess } from './support/simulator-process.ts';
import { fixed, rssMb } from './support/stats.ts';
import { startWorkerProcess, workerStartFlags } from './support/worker-process.ts';

const N = Number(process.env.BENCH_PENDING_TASKS ?? 100_000);
const PER_SEC = Number(process.env.BENCH_ENQUEUE_PER_SEC ?? 400);
const TASK_MS = Number(process.env.BENCH_TASK_MS ?? 300_000);
const FIRST_POLL_MS = TASK_MS + 2000;
/** What one query is worth in detection delay (DRAWING_POLL_COST_MS): see the header. */
const POLL_COST_MS = process.env.BENCH_POLL_COST_MS ?? '30000';

const redis = await startRedisServer();
const connection = createRedisConnection({ url: redis.url, role: 'worker' });
const sim = await startSimulatorProcess({ SIMULATOR_DRAWING_DURATION_MS: String(TASK_MS) });
const prefix = 'pending100k';
const queue = new Queue('drawing', { connection, prefix });
const worker = await startWorkerProcess({
  REDIS_URL: redis.url,
  ATELIER_QUEUE_PREFIX: prefix,
  ATELIER_WORKER_QUEUES: 'drawing',
  DRAWING_BASE_URL: sim.drawing.baseUrl,
  DRAWING_SUBMIT_PATH: sim.drawing.submitPath,
  DRAWING_QUERY_PATH: sim.drawing.queryPath,
  DRAWING_AUTH_MODE: 'none',
  DRAWING_CONCURRENCY: '50',
  DRAWING_POLL_FIRST_MS: String(FIRST_POLL_MS),
  DRAWING_POLL_INTERVAL_MS: '5000',
  DRAWING_POLL_MAX_INTERVAL_MS: '30000',
  DRAWING_POLL_DEADLINE_MS: String(TASK_MS + 20 * 60_000),
  DRAWING_POLL_COST_MS: POLL_COST_MS,
  LOG_LEVEL: 'warn',
});

const usedMemory = async () =>
  Number(/used_memory:(\d+)/.exec(await connection.info('memory'))?.[1] ?? Number.NaN);
const memoryBefore = await usedMemory();
const started = Date.now();
let maxPending = 0;
let redisAtMax = 0;
let allPendingAt: number | undefined;
/** The worker's RSS, sampled every second, by phase (where its peak comes from). */
const rssByPhase: Record<string, number> = {};
let phase = 'enqueue (submits)';
async function sample(): Promise<void> {
  const pid = worker.child.pid;
  if (pid !== undefined) rssByPhase[phase] = Math.max(rssByPhase[phase] ?? 0, rssMb(pid));
  const delayed = await queue.getDelayedCount();
  if (delayed > maxPending) {
    maxPending = delayed;
    redisAtMax = await usedMemory();
  }
  if (delayed >= N && allPendingAt === undefined) allPendingAt = Date.now() - started;
}
let sampling: Promise<void> = Promise.resolve();
const sampler = setInterval(() => {
  sampling = sampling.then(sample).catch((error) => console.error('sample failed', error));
}, 1000);

// Enqueue at a steady rate, one batch a second.
let enqueued = 0;
while (enqueued < N) {
  const due = Math.min(N, Math.floor(((Date.now() - started) / 1000 + 1) * PER_SEC));
  if (due > enqueued) {
    await addDrawings(queue, enqueued, due - enqueued);
    enqueued = due;
  }
  await new Promise((r) => setTimeout(r, 250));
}
const enqueuedS = (Date.now() - started) / 1000;
phase = 'waiting';
setTimeout(
  () => {
    phase = 'polls';
  },
  Math.max(0, FIRST_POLL_MS - (Date.now() - started)),
).unref();
await untilCompleted(queue, N);
clearInterval(sampler);
await sampling;
const wallS = (Date.now() - started) / 1000;
const r = await worker.report();
await queue.close();
connection.disconnect();
await sim.stop();
await redis.stop();

const results = [
  `### ${N} drawing tasks pending at once in one worker process (${[...workerStartFlags(), process.env.BENCH_WORKER_FLAGS ?? ''].join(' ').trim()}, concurrency 50)`,
  `- schedule: enqueued at ${PER_SEC}/s (all in ${fixed(enqueuedS, 0)} s), tasks take ${TASK_MS / 1000} s, first poll configured at ${FIRST_POLL_MS / 1000} s after submit, then every 5–30 s, DRAWING_POLL_COST_MS=${POLL_COST_MS}`,
  `- most tasks pending (delayed, submitted) at once: ${maxPending}${allPendingAt ? ` (all ${N} at ${fixed(allPendingAt / 1000, 0)} s)` : ''}; Redis used_memory then ${fixed((redisAtMax - memoryBefore) / 1048576, 0)} MB above empty (${fixed((redisAtMax - memoryBefore) / Math.max(1, maxPending), 0)} B per pending task)`,
  `- polls: ${r.polls} (${fixed((r.polls ?? 0) / N, 2)} per task); lateness p50 ${fixed(r.p50 ?? 0, 0)} ms, p99 ${fixed(r.p99 ?? 0, 0)} ms, max ${fixed(r.max ?? 0, 0)} ms (target p99 < 1000)`,
  `- peak RSS of the worker process: ${fixed(r.peakRssMb ?? 0, 0)} MB (target < 300); at the end heap ${fixed(r.heapUsedMb ?? 0, 0)} of ${fixed(r.heapTotalMb ?? 0, 0)} MB used, external ${fixed(r.externalMb ?? 0, 0)} MB`,
  `- highest RSS sampled (each second) by phase: ${Object.entries(rssByPhase)
    .map(([name, mb]) => `${name} ${fixed(mb, 0)} MB`)
    .join(', ')}`,
  `- all ${N} completed: after ${fixed(wallS, 0)} s`,
];
console.log(`\n${results.join('\n')}`);
