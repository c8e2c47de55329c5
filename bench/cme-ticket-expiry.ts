/**
 * What a ticket expiry costs: N concurrent CME operations (spread over two runners standing in
 * for two worker processes) started the moment the ticket dies, against the same N with a warm
 * ticket, in the same run. Prints logins per expiry and the added latency (p50/p99).
 *
 *   node bench/cme-ticket-expiry.ts [N=500] [rounds=5] [latencyMs=20]
 */
import { randomBytes } from 'node:crypto';
import { type CmeConfig, type CmeOperation, Secret } from '@atelier/shared';
import { CmeSimulator } from '@atelier/simulator';
import { createRedisConnection } from '@atelier/store';
import { CmeOperationRunner } from '@atelier/worker';
import { startRedisServer } from '../test/support/redis-server.ts';

const N = Number(process.argv[2] ?? 500);
const ROUNDS = Number(process.argv[3] ?? 5);
const LATENCY_MS = Number(process.argv[4] ?? 20);
const USER = 'bench_user';
const PLATFORM = '1000000009';
const SECRET_ID = 'AKIDBench0123456789';

interface Sample {
  p50: number;
  p99: number;
  max: number;
  logins: number;
  failed: number;
  wallMs: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

const redisServer = await startRedisServer();
const secretKey = randomBytes(16).toString('hex');
const simulator = await CmeSimulator.start({
  secretId: SECRET_ID,
  secretKey,
  platform: PLATFORM,
  faults: { delayMs: LATENCY_MS },
});
const [materialId = ''] = simulator.seed({
  materials: [{ owner: { Type: 'PERSON', Id: USER } }],
}).materialIds;

const config: CmeConfig = {
  loginUrl: simulator.loginUrl,
  apiBaseUrl: simulator.apiBaseUrl,
  platform: PLATFORM,
  secretId: new Secret(SECRET_ID),
  secretKey: new Secret(secretKey),
  requestTimeoutMs: 30_000,
  concurrency: N,
  rateLimitPerSec: 1_000_000,
  ticketMaxAgeMs: 0,
  signatureValiditySec: 300,
};
const prefix = `bench-${randomBytes(4).toString('hex')}`;
const connections = [0, 1].map(() =>
  createRedisConnection({ url: redisServer.url, role: 'worker' }),
);
const runners = connections.map((redis) => new CmeOperationRunner({ redis, prefix, config }));
const operation: CmeOperation = {
  userId: USER,
  action: 'Material/DescribeMaterials',
  params: { MaterialIds: [materialId] },
};

async function burst(): Promise<Sample> {
  const loginsBefore = simulator.counters().logins.total;
  const started = performance.now();
  const latencies = await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      const t0 = performance.now();
      const outcome = await runners[i % runners.length]?.run(operation);
      if (outcome?.kind !== 'ok') throw new Error(`operation failed: ${outcome?.kind}`);
      return performance.now() - t0;
    }),
  );
  const wallMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? 0,
    logins: simulator.counters().logins.total - loginsBefore,
    failed: 0,
    wallMs,
  };
}

try {
  // Warm-up: first login, sockets, JIT. Not measured.
  await burst();
  await burst();
  const warm: Sample[] = [];
  const expired: Sample[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    warm.push(await burst());
    const authBefore = simulator.counters().authFailures;
    simulator.expireAll();
    const sample = await burst();
    sample.failed = simulator.counters().authFailures - authBefore;
    expired.push(sample);
  }
  const f = (ms: number) => `${ms.toFixed(1).padStart(7)} ms`;
  console.log(
    `CME ticket expiry: N=${N} concurrent operations over 2 runners, simulated latency ${LATENCY_MS} ms, ${ROUNDS} rounds`,
  );
  console.log('round  warm p50   warm p99   exp p50    exp p99    logins  auth-fails');
  for (let r = 0; r < ROUNDS; r++) {
    const w = warm[r] as Sample;
    const e = expired[r] as Sample;
    console.log(
      `${String(r + 1).padStart(5)} ${f(w.p50)} ${f(w.p99)} ${f(e.p50)} ${f(e.p99)} ${String(e.logins).padStart(7)} ${String(e.failed).padStart(11)}`,
    );
  }
  const wp50 = median(warm.map((s) => s.p50));
  const wp99 = median(warm.map((s) => s.p99));
  const ep50 = median(expired.map((s) => s.p50));
  const ep99 = median(expired.map((s) => s.p99));
  const logins = expired.map((s) => s.logins);
  console.log(
    `logins per expiry: ${logins.join(', ')} (warm rounds: ${warm.map((s) => s.logins).join(', ')})`,
  );
  console.log(
    `median p50: warm ${wp50.toFixed(1)} ms, expiry ${ep50.toFixed(1)} ms → +${(ep50 - wp50).toFixed(1)} ms (×${(ep50 / wp50).toFixed(2)})`,
  );
  console.log(
    `median p99: warm ${wp99.toFixed(1)} ms, expiry ${ep99.toFixed(1)} ms → +${(ep99 - wp99).toFixed(1)} ms (×${(ep99 / wp99).toFixed(2)})`,
  );
  console.log(
    `wall time per burst (median): warm ${median(warm.map((s) => s.wallMs)).toFixed(0)} ms, expiry ${median(expired.map((s) => s.wallMs)).toFixed(0)} ms`,
  );
  if (logins.some((n) => n !== 1)) {
    console.error('FAIL: an expiry did not cost exactly one login');
    process.exitCode = 1;
  }
} finally {
  for (const runner of runners) runner.close();
  for (const redis of connections) redis.disconnect();
  await simulator.close();
  await redisServer.stop();
}
