/**
 * CPU per drawing provider call: the shipped `got` client against the floor of `node:http`
 * doing the same call (same keep-alive agent settings, headers, body and answer mapping),
 * against the simulator in its own process. Explains the drawing throughput figure: the
 * worker is CPU-bound, and the two provider calls per job are most of its CPU.
 *
 *   node bench/http-client-cost.ts
 */
import { Agent, request } from 'node:http';
import { createLogger } from '@atelier/shared';
import { DrawingClient } from '@atelier/worker';
import { queryOutcome } from '../packages/worker/src/drawing/drawing-answers.ts';
import { createDrawingAuth } from '../packages/worker/src/drawing/drawing-auth.ts';
import { encodeFormBody, FORM_CONTENT_TYPE } from '../packages/worker/src/drawing/form-body.ts';
import { startSimulatorProcess } from './support/simulator-process.ts';
import { fixed, percentile } from './support/stats.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 20_000);
const CONCURRENCY = 50;
const ROUNDS = 3;

const sim = await startSimulatorProcess({ SIMULATOR_DRAWING_DURATION_MS: '0' });
const logger = createLogger({ name: 'bench', level: 'warn' });
const client = new DrawingClient({
  ...sim.drawing,
  auth: createDrawingAuth(
    {
      authMode: 'none',
      baseUrl: sim.drawing.baseUrl,
      appKey: undefined,
      appSecret: undefined,
      appCode: undefined,
    },
    logger,
  ),
  logger,
});
const submitted = await client.submit({
  text: 'bench',
  style: '油画',
  resolution: '1024*1024',
  num: 1,
});
if (submitted.kind !== 'ok') throw new Error(`submit failed: ${JSON.stringify(submitted)}`);
const { taskId } = submitted.value;

const queryUrl = new URL(`${sim.drawing.baseUrl.replace(/\/$/, '')}${sim.drawing.queryPath}`);
const body = encodeFormBody({ taskId });
const agent = new Agent({ keepAlive: true });
/** The same call through `node:http` alone: what no client library can go below. */
function plainQuery() {
  return new Promise<ReturnType<typeof queryOutcome>>((resolve, reject) => {
    const req = request(
      queryUrl,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': FORM_CONTENT_TYPE,
          'content-length': body.length,
          'user-agent': 'atelier-worker',
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve(
            queryOutcome({ statusCode: res.statusCode ?? 0, headers: res.headers, body: text }),
          ),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function cpuPerCall(call: () => Promise<{ kind: string }>): Promise<number> {
  let started = 0;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (started++ < CALLS) {
        const outcome = await call();
        if (outcome.kind !== 'ok') throw new Error(`query answered ${JSON.stringify(outcome)}`);
      }
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / CALLS;
}

const got: number[] = [];
const plain: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  got.push(await cpuPerCall(() => client.query(taskId)));
  plain.push(await cpuPerCall(plainQuery));
}
client.close();
agent.destroy();
await sim.stop();

console.log(
  `### CPU per drawing query (${CALLS} calls × ${ROUNDS} rounds, concurrency ${CONCURRENCY})`,
);
console.log(`- shipped got client: ${got.map((v) => fixed(v, 0)).join(' / ')} µs`);
console.log(`- node:http floor: ${plain.map((v) => fixed(v, 0)).join(' / ')} µs`);
console.log(
  `- **got ÷ node:http: ${fixed(percentile(got, 50) / percentile(plain, 50), 2)}×** (medians)`,
);
