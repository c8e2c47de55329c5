/**
 * A 100,000-item batch through `POST /v1/batches`, the API in its own process (as deployed):
 * time until `202 {id, total}` and the API process's peak RSS (VmHWM), for an NDJSON body
 * and a JSON body, each in a fresh API process. Baseline, in this process: the same 100k
 * jobs added straight to BullMQ with `addBulk` (1000 per call) — the floor any API pays.
 * Also times streaming the 100k result lines back. Targets: under 15 s, at most 320 MB.
 *
 *   node bench/batch-enqueue.ts [--items 100000]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DEFAULT_PRIORITY,
  type DrawingJobData,
  defaultJobOptions,
  QUEUE_NAMES,
  toBullmqPriority,
} from '@atelier/shared';
import { createRedisConnection } from '@atelier/store';
import { Queue } from 'bullmq';
import { startRedisServer } from '../test/support/redis-server.ts';
import { fixed, peakRssMb, rssMb } from './support/stats.ts';

const { values } = parseArgs({ options: { items: { type: 'string', default: '100000' } } });
const ITEMS = Number(values.items);
const KEY = 'bench-key';
const PRODUCER = fileURLToPath(new URL('../packages/producer/', import.meta.url));
/** The API exactly as `pnpm --filter @atelier/producer start` runs it (node flags included). */
const START = (
  JSON.parse(readFileSync(`${PRODUCER}package.json`, 'utf8')) as { scripts: { start: string } }
).scripts.start
  .split(/\s+/)
  .slice(1);
const styles = ['油画', '古风', '二次元', '水彩画'];
const item = (i: number) => ({
  text: `第 ${i} 张: a lighthouse at dusk, waves, ${i % 97} gulls`,
  style: styles[i % styles.length] as string,
  resolution: '1024*1024',
  num: 1 + (i % 4),
});

const redis = await startRedisServer();
let prefixes = 0;

interface ApiProcess {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

async function startApi(prefix: string): Promise<ApiProcess> {
  const child = spawn(process.execPath, START, {
    cwd: PRODUCER,
    env: {
      PATH: process.env.PATH,
      REDIS_URL: redis.url,
      ATELIER_QUEUE_PREFIX: prefix,
      ATELIER_API_KEYS: KEY,
      ATELIER_BATCH_MAX_ITEMS: String(Math.max(ITEMS, 100_000)),
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"address":"(http:[^"]+)"/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`API exited with ${code}:\n${out}`)));
  });
  child.stdout?.resume();
  return {
    child,
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Sends `body` chunk by chunk (a streamed upload) and returns the status and JSON answer. */
function post(
  url: string,
  contentType: string,
  chunks: Iterable<string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': contentType, authorization: `Bearer ${KEY}` },
    });
    req.once('error', reject);
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    (async () => {
      for (const chunk of chunks)
        if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
      req.end();
    })().catch(reject);
  });
}

function* ndjsonBody(): Generator<string> {
  let chunk = '';
  for (let i = 0; i < ITEMS; i++) {
    chunk += `${JSON.stringify(item(i))}\n`;
    if (chunk.length > 64 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk;
}

function* jsonBody(): Generator<string> {
  yield '{"items":[';
  let chunk = '';
  for (let i = 0; i < ITEMS; i++) {
    chunk += `${i === 0 ? '' : ','}${JSON.stringify(item(i))}`;
    if (chunk.length > 64 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}]}`;
}

/** Reads the results stream, counting lines; returns seconds taken. */
function readResults(url: string): Promise<{ lines: number; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${KEY}` } }, (res) => {
      let lines = 0;
      res.on('data', (chunk: Buffer) => {
        for (const byte of chunk) if (byte === 10) lines++;
      });
      res.once('end', () => resolve({ lines, seconds: (performance.now() - started) / 1000 }));
    });
    req.once('error', reject);
    req.end();
  });
}

async function viaApi(format: 'ndjson' | 'json') {
  const prefix = `bench${++prefixes}`;
  const api = await startApi(prefix);
  try {
    const pid = api.child.pid as number;
    const idleMb = rssMb(pid);
    let sampledMaxMb = idleMb;
    const sampler = setInterval(() => {
      sampledMaxMb = Math.max(sampledMaxMb, rssMb(pid));
    }, 50);
    const started = performance.now();
    const res =
      format === 'ndjson'
        ? await post(`${api.url}/v1/batches`, 'application/x-ndjson', ndjsonBody())
        : await post(`${api.url}/v1/batches`, 'application/json', jsonBody());
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    if (res.status !== 202)
      throw new Error(`POST /v1/batches answered ${res.status}: ${res.body.slice(0, 500)}`);
    const { id, total } = JSON.parse(res.body) as { id: string; total: number };
    const peakMb = peakRssMb(pid);
    const results = await readResults(`${api.url}/v1/batches/${id}/results`);
    const afterResultsPeakMb = peakRssMb(pid);
    const connection = createRedisConnection({ url: redis.url, role: 'worker' });
    const queue = new Queue(QUEUE_NAMES.drawing, { connection, prefix });
    const queued = await queue.count();
    await queue.close();
    connection.disconnect();
    if (total !== ITEMS || queued !== ITEMS || results.lines !== ITEMS) {
      throw new Error(
        `counts differ: total ${total}, queued ${queued}, result lines ${results.lines}`,
      );
    }
    return { seconds, idleMb, peakMb: Math.max(peakMb, sampledMaxMb), results, afterResultsPeakMb };
  } finally {
    await api.stop();
  }
}

async function baseline() {
  const prefix = `bench${++prefixes}`;
  const connection = createRedisConnection({ url: redis.url, role: 'worker' });
  const queue = new Queue<DrawingJobData>(QUEUE_NAMES.drawing, { connection, prefix });
  const options = defaultJobOptions('drawing');
  const started = performance.now();
  for (let start = 0; start < ITEMS; start += 1000) {
    const jobs = [];
    for (let i = start; i < Math.min(ITEMS, start + 1000); i++) {
      jobs.push({
        name: 'drawing',
        data: {
          kind: 'drawing' as const,
          task: item(i),
          meta: { enqueuedAt: Date.now(), batchId: 'b_base', batchIndex: i },
        },
        opts: {
          ...options,
          jobId: `dr_b_base~${i}`,
          priority: toBullmqPriority(DEFAULT_PRIORITY.batchItem),
        },
      });
    }
    await queue.addBulk(jobs);
  }
  const seconds = (performance.now() - started) / 1000;
  await queue.close();
  connection.disconnect();
  return seconds;
}

try {
  const base = await baseline();
  const ndjson = await viaApi('ndjson');
  const json = await viaApi('json');
  console.log(`Batch enqueue, ${ITEMS} items through POST /v1/batches (API in its own process)`);
  console.log(
    `  baseline: BullMQ addBulk ×${ITEMS / 1000} from this process   ${fixed(base, 2)} s`,
  );
  for (const [name, r] of [
    ['NDJSON body', ndjson],
    ['JSON body  ', json],
  ] as const) {
    console.log(
      `  ${name}: 202 after ${fixed(r.seconds, 2)} s (×${fixed(r.seconds / base, 2)} baseline), ` +
        `API RSS idle ${fixed(r.idleMb, 0)} MB, peak ${fixed(r.peakMb, 0)} MB; ` +
        `results stream ${r.results.lines} lines in ${fixed(r.results.seconds, 2)} s (peak after ${fixed(r.afterResultsPeakMb, 0)} MB)`,
    );
  }
  const worst = Math.max(ndjson.seconds, json.seconds);
  const worstMb = Math.max(ndjson.peakMb, json.peakMb);
  console.log(
    `targets: under 15 s (${worst < 15 ? 'met' : 'MISSED'}), at most 320 MB (${worstMb <= 320 ? 'met' : 'MISSED'})`,
  );
} finally {
  await redis.stop();
}
