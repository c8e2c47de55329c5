import { Agent, request } from 'node:http';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

export interface LoadOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** Concurrent keep-alive connections, each sending one request at a time. */
  connections: number;
  durationMs: number;
}

export interface LoadResult {
  requests: number;
  /** Answers other than 2xx. */
  failures: number;
  statuses: Record<string, number>;
  seconds: number;
  perSecond: number;
}

/**
 * Drives `connections` keep-alive HTTP clients for `durationMs` from a worker thread, so the
 * load generator does not share the server's event loop.
 */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: options });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

async function load(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const target = new URL(options.url);
  const body = Buffer.from(options.body);
  const headers = { ...options.headers, 'content-length': String(body.length) };
  const statuses: Record<string, number> = {};
  let requests = 0;
  let failures = 0;
  const timeline: number[] = [];
  const started = performance.now();
  const deadline = started + options.durationMs;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers,
        },
        (res) => {
          res.resume();
          res.once('end', () => {
            const status = String(res.statusCode);
            statuses[status] = (statuses[status] ?? 0) + 1;
            if ((res.statusCode ?? 0) >= 300) failures++;
            requests++;
            const bucket = Math.floor((performance.now() - started) / 250);
            timeline[bucket] = (timeline[bucket] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.once('error', reject);
      req.end(body);
    });
  const lane = async () => {
    while (performance.now() < deadline) await one();
  };
  await Promise.all(Array.from({ length: options.connections }, lane));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  if (process.env.BENCH_TIMELINE) console.log(timeline.join(' '));
  return { requests, failures, statuses, seconds, perSecond: requests / seconds };
}

if (!isMainThread && parentPort) {
  parentPort.postMessage(await load(workerData as LoadOptions));
}
