/**
 * HTTP enqueue throughput: `POST /v1/drawings` through the real API (auth, rate limit in
 * Redis, validation, BullMQ add) against a bare Fastify handler that does nothing, both in
 * this process, driven by the same keep-alive load generator from a worker thread.
 * Target: API / bare ≥ 0.35.
 *
 * The machine may be shared, so the two are measured in alternating rounds (bare, API, bare,
 * API, …) and compared on their totals; every round is printed.
 *
 *   node bench/http-enqueue.ts [--connections 32] [--seconds 2] [--rounds 4]
 */
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { createProducer, producerOptionsFromConfig } from '@atelier/producer';
import { buildApi } from '@atelier/producer/http';
import { createLogger, loadConfig } from '@atelier/shared';
import Fastify from 'fastify';
import { startRedisServer } from '../test/support/redis-server.ts';
import { type LoadResult, runLoad } from './support/http-load.ts';
import { fixed } from './support/stats.ts';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '4' },
  },
});
const connections = Number(values.connections);
const durationMs = Number(values.seconds) * 1000;
const rounds = Number(values.rounds);
const KEY = 'bench-key';
const body = JSON.stringify({
  text: '一只猫 in the rain',
  style: '油画',
  resolution: '1024*1024',
  num: 1,
});
const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };

const redis = await startRedisServer();
try {
  // Baseline: Fastify, same route, a handler that does nothing.
  const bare = Fastify();
  bare.post('/v1/drawings', async (_request, reply) => reply.code(202).send({ id: 'dr_x' }));
  const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

  // The API as deployed, logging at info (one line per request) to /dev/null.
  const config = loadConfig(
    {
      REDIS_URL: redis.url,
      ATELIER_API_KEYS: KEY,
      ATELIER_RATE_LIMIT_PER_MIN: '1000000000',
      LOG_LEVEL: 'info',
    },
    'api',
  );
  const logger = createLogger({
    name: 'bench-api',
    level: 'info',
    destination: createWriteStream('/dev/null'),
  });
  const producer = createProducer(producerOptionsFromConfig(config, { logger }));
  await producer.ready();
  const api = buildApi({ producer, config, logger });
  const apiUrl = await api.listen({ host: '127.0.0.1', port: 0 });

  const run = (url: string, ms: number) =>
    runLoad({ url: `${url}/v1/drawings`, body, headers, connections, durationMs: ms });
  await run(bareUrl, 1000); // warm-up
  await run(apiUrl, 1000);
  const baseline: LoadResult[] = [];
  const enqueue: LoadResult[] = [];
  for (let round = 0; round < rounds; round++) {
    baseline.push(await run(bareUrl, durationMs));
    enqueue.push(await run(apiUrl, durationMs));
  }
  const total = (results: LoadResult[]): LoadResult => {
    const requests = results.reduce((n, r) => n + r.requests, 0);
    const seconds = results.reduce((n, r) => n + r.seconds, 0);
    const failures = results.reduce((n, r) => n + r.failures, 0);
    return { requests, seconds, failures, statuses: {}, perSecond: requests / seconds };
  };
  const queued = await producer.stats();

  const line = (name: string, r: LoadResult) =>
    `${name.padEnd(28)} ${fixed(r.perSecond, 0).padStart(7)} req/s  (${r.requests} in ${fixed(r.seconds, 1)} s, non-2xx ${r.failures})`;
  console.log(
    `HTTP enqueue, ${connections} keep-alive connections, ${rounds} alternating rounds of ${durationMs / 1000} s`,
  );
  for (let round = 0; round < rounds; round++) {
    const b = baseline[round] as LoadResult;
    const a = enqueue[round] as LoadResult;
    console.log(
      `  round ${round + 1}: bare ${fixed(b.perSecond, 0)} req/s, API ${fixed(a.perSecond, 0)} req/s, ratio ${fixed(a.perSecond / b.perSecond, 3)}`,
    );
  }
  const b = total(baseline);
  const a = total(enqueue);
  console.log(line('bare Fastify (baseline)', b));
  console.log(line('POST /v1/drawings (API)', a));
  console.log(`ratio API / baseline: ${fixed(a.perSecond / b.perSecond, 3)} (target ≥ 0.35)`);
  console.log(`jobs in the drawing queue: ${queued.queues.drawing?.prioritized ?? 0}`);
  if (a.failures > 0 || b.failures > 0) {
    console.log('WARNING: some answers were not 2xx; the figures above are not valid');
    process.exitCode = 1;
  }

  await api.close();
  await producer.close();
  await bare.close();
} finally {
  await redis.stop();
}
