/**
 * Drawing throughput on a local 3-master Redis Cluster against a single Redis, in the same run,
 * with one worker process and with two. Each measurement: the simulator in its own process
 * (instant tasks), K worker processes (each like `pnpm --filter @atelier/worker start`,
 * concurrency 50), a warm-up so the poll schedule has learned the tasks are instant, then N jobs
 * added to the paused queue and timed from resume until all completed. Both targets use the
 * same hash-tagged prefix form (`{bench1}`): on the cluster every key of a deployment lives in
 * one slot, so one master carries it; the ratio measures what the cluster client and
 * redirections cost. Rounds alternate the targets so drift hits both alike.
 *
 *   node bench/cluster-throughput.ts [--jobs 10000] [--rounds 3]
 *
 * Throughput ratios are only meaningful on a quiet machine.
 */
import { parseArgs } from 'node:util';
import { createRedisConnection, type RedisClient } from '@atelier/store';
import { Queue } from 'bullmq';
import { startRedisCluster } from '../test/support/redis-cluster.ts';
import { startRedisServer } from '../test/support/redis-server.ts';
import { addDrawings, untilCompleted } from './support/drawing-jobs.ts';
import { startSimulatorProcess } from './support/simulator-process.ts';
import { fixed, percentile } from './support/stats.ts';
import { startWorkerProcess } from './support/worker-process.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
  },
});
const N = Number(values.jobs);
const ROUNDS = Number(values.rounds);
const WARMUP = 500;

const single = await startRedisServer();
const cluster = await startRedisCluster(3);
const sim = await startSimulatorProcess({ SIMULATOR_DRAWING_DURATION_MS: '0' });
let prefixes = 0;

type Target = 'single' | 'cluster';
const URLS: Record<Target, string> = { single: single.url, cluster: cluster.url };

/** Jobs per second through `workers` worker processes on `target`. */
async function measure(target: Target, workers: number): Promise<number> {
  const prefix = `{bench${++prefixes}}`;
  const url = URLS[target];
  const connection: RedisClient = createRedisConnection({ url, role: 'worker' });
  const queue = new Queue('drawing', { connection, prefix });
  const env = {
    REDIS_URL: url,
    ATELIER_QUEUE_PREFIX: prefix,
    ATELIER_WORKER_QUEUES: 'drawing',
    DRAWING_BASE_URL: sim.drawing.baseUrl,
    DRAWING_SUBMIT_PATH: sim.drawing.submitPath,
    DRAWING_QUERY_PATH: sim.drawing.queryPath,
    DRAWING_AUTH_MODE: 'none',
    DRAWING_CONCURRENCY: '50',
    DRAWING_POLL_FIRST_MS: '0',
    DRAWING_POLL_INTERVAL_MS: '100',
    LOG_LEVEL: 'warn',
  };
  const processes = await Promise.all(
    Array.from({ length: workers }, () => startWorkerProcess(env)),
  );
  await addDrawings(queue, 0, WARMUP);
  await untilCompleted(queue, WARMUP);
  await queue.pause();
  await addDrawings(queue, WARMUP, N);
  const started = Date.now();
  await queue.resume();
  await untilCompleted(queue, WARMUP + N);
  const rate = N / ((Date.now() - started) / 1000);
  await Promise.all(processes.map((p) => p.report()));
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  console.log(`${target}, ${workers} worker(s): ${fixed(rate, 0)} jobs/s`);
  return rate;
}

const rates: Record<string, number[]> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const workers of [1, 2]) {
    for (const target of ['single', 'cluster'] as const) {
      const key = `${target}/${workers}`;
      const rate = await measure(target, workers);
      rates[key] = [...(rates[key] ?? []), rate];
    }
  }
}
await sim.stop();
await cluster.stop();
await single.stop();

const median = (key: string) => percentile(rates[key] ?? [], 50);
const rows = (key: string) => (rates[key] ?? []).map((r) => fixed(r, 0)).join(', ');
const results = [
  `### Drawing throughput: 3-master Redis Cluster vs single Redis (${N} jobs per measurement, ${ROUNDS} rounds, instant tasks, concurrency 50 per worker)`,
  '| workers | single Redis (jobs/s, each round) | cluster (jobs/s, each round) | **cluster ÷ single** (medians) |',
  '| --- | --- | --- | --- |',
  ...[1, 2].map(
    (w) =>
      `| ${w} | ${rows(`single/${w}`)} | ${rows(`cluster/${w}`)} | **${fixed(median(`cluster/${w}`) / median(`single/${w}`), 2)}** |`,
  ),
  `- two workers ÷ one (medians): single ${fixed(median('single/2') / median('single/1'), 2)}, cluster ${fixed(median('cluster/2') / median('cluster/1'), 2)}`,
];
console.log(`\n${results.join('\n')}`);
