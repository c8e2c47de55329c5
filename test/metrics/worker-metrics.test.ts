import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_PRIORITY,
  defaultJobOptions,
  jobIdFor,
  QUEUE_NAMES,
  toBullmqPriority,
} from '@atelier/shared';
import { CmeSimulator, DrawingSimulator } from '@atelier/simulator';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { sample } from '../support/prometheus.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { freePort } from '../support/redis-server.ts';
import { waitFor } from '../support/wait-for.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());
const WORKER = fileURLToPath(new URL('../../packages/worker/src/bin/worker.ts', import.meta.url));

describe('worker /metrics (the real entry point, scraped)', () => {
  it('exposes provider calls, polls, ticket refreshes, dead letters, callbacks and durations, and they move', async () => {
    const drawing = await DrawingSimulator.start({ duration: { kind: 'fixed', ms: 0 } });
    ctx.onCleanup(() => drawing.close());
    const cme = await CmeSimulator.start({
      secretId: 'AKIDmetrics',
      secretKey: 'metrics-secret-key',
      platform: 'p1',
    });
    ctx.onCleanup(() => cme.close());
    const [material] = cme.seed({
      materials: [{ owner: { Type: 'PERSON', Id: 'u1' } }],
    }).materialIds;
    let delivered = 0;
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        delivered++;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    ctx.onCleanup(() => new Promise((resolve) => receiver.close(resolve)));

    const prefix = ctx.prefix('metrics');
    const metricsPort = await freePort();
    const child = spawn(process.execPath, [WORKER], {
      env: {
        ...process.env,
        REDIS_URL: ctx.url,
        ATELIER_QUEUE_PREFIX: prefix,
        LOG_LEVEL: 'warn',
        WORKER_METRICS_PORT: String(metricsPort),
        DRAWING_BASE_URL: drawing.url,
        DRAWING_SUBMIT_PATH: drawing.submitPath,
        DRAWING_QUERY_PATH: drawing.queryPath,
        DRAWING_AUTH_MODE: 'none',
        DRAWING_POLL_FIRST_MS: '0',
        CME_LOGIN_URL: cme.loginUrl,
        CME_API_BASE_URL: cme.apiBaseUrl,
        CME_PLATFORM: 'p1',
        CME_SECRET_ID: 'AKIDmetrics',
        CME_SECRET_KEY: 'metrics-secret-key',
        ATELIER_CALLBACK_SECRET: 'callback-secret',
        ATELIER_CALLBACK_ALLOW_PRIVATE: 'true',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    ctx.onCleanup(async () => {
      child.kill('SIGKILL');
    });
    const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const before = await waitFor(() => scrape().catch(() => undefined), {
      timeoutMs: 20_000,
      what: `metrics (${stderr})`,
    });
    expect(sample(before, 'atelier_drawing_polls_total', { result: 'done' }) ?? 0).toBe(0);

    const connection = ctx.connection();
    const drawings = new Queue(QUEUE_NAMES.drawing, { connection, prefix });
    const cmeQueue = new Queue(QUEUE_NAMES.cme, { connection, prefix });
    ctx.onCleanup(() => drawings.close());
    ctx.onCleanup(() => cmeQueue.close());
    drawing.script('blocked text', { submit: [{ code: 202 }] });
    const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const opts = (kind: 'drawing' | 'cme') => ({
      ...defaultJobOptions(kind),
      jobId: jobIdFor(kind),
      priority: toBullmqPriority(DEFAULT_PRIORITY.single),
    });
    const task = { style: '油画', resolution: '1024*1024', num: 1 };
    await drawings.add(
      'drawing',
      {
        kind: 'drawing',
        task: { ...task, text: 'fine' },
        meta: { enqueuedAt: Date.now(), callbackUrl },
      },
      opts('drawing'),
    );
    await drawings.add(
      'drawing',
      {
        kind: 'drawing',
        task: { ...task, text: 'blocked text' },
        meta: { enqueuedAt: Date.now() },
      },
      opts('drawing'),
    );
    await cmeQueue.add(
      'Material/DescribeMaterials',
      {
        kind: 'cme',
        operation: {
          userId: 'u1',
          action: 'Material/DescribeMaterials',
          params: { MaterialIds: [material] },
        },
        meta: { enqueuedAt: Date.now() },
      },
      opts('cme'),
    );

    const after = await waitFor(
      async () => {
        const text = await scrape();
        const ready =
          (sample(text, 'atelier_dead_letters_total', { queue: 'drawing', code: '202' }) ?? 0) >=
            1 &&
          (sample(text, 'atelier_callback_deliveries_total', {
            event: 'job.completed',
            status: 'delivered',
          }) ?? 0) >= 1 &&
          (sample(text, 'atelier_job_duration_seconds_count', { queue: 'cme' }) ?? 0) >= 1;
        return ready ? text : undefined;
      },
      { timeoutMs: 30_000, what: 'the metrics to move' },
    );
    expect(
      sample(after, 'atelier_provider_calls_total', {
        provider: 'drawing',
        operation: 'submit',
        outcome: 'ok',
        code: '200',
      }),
    ).toBe(1);
    expect(
      sample(after, 'atelier_provider_calls_total', {
        provider: 'drawing',
        operation: 'submit',
        outcome: 'terminal',
        code: '202',
      }),
    ).toBe(1);
    expect(
      sample(after, 'atelier_provider_calls_total', {
        provider: 'cme',
        operation: 'Material/DescribeMaterials',
        outcome: 'ok',
      }),
    ).toBe(1);
    expect(sample(after, 'atelier_drawing_polls_total', { result: 'done' })).toBe(1);
    expect(sample(after, 'atelier_drawing_polls_per_task_count')).toBe(1);
    expect(sample(after, 'atelier_drawing_poll_lateness_seconds_count')).toBe(1);
    expect(
      sample(after, 'atelier_cme_ticket_refreshes_total', { platform: 'p1', outcome: 'ok' }),
    ).toBe(1);
    expect(sample(after, 'atelier_job_duration_seconds_count', { queue: 'drawing' })).toBe(1);
    expect(
      sample(after, 'atelier_job_steps_total', {
        queue: 'drawing',
        step: 'fail',
        kind: 'terminal',
      }),
    ).toBe(1);
    expect(sample(after, 'atelier_worker_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(delivered).toBe(1);
    expect(after).not.toContain('metrics-secret-key');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
