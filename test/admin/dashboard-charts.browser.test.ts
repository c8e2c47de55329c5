import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createProducer, producerOptionsFromConfig } from '@atelier/producer';
import { buildApi } from '@atelier/producer/http';
import { loadConfig } from '@atelier/shared';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger } from '../support/capture-logger.ts';
import { launchChromium } from '../support/chromium.ts';
import { DrawingStack } from '../support/drawing-stack.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';
import { ADMIN_PASSWORD, ADMIN_USER } from './admin-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
const STEP_MS = 30_000;
const CHARTS = ['throughput', 'failures', 'latency', 'polls', 'codes', 'logins', 'images'];

/** What each uPlot chart on the page holds: its series' labels and their values. */
interface DrawnChart {
  labels: string[];
  /** Values per series (x excluded), in label order. */
  values: Array<Array<number | null>>;
  points: number;
}

async function drawnCharts(page: Page): Promise<Record<string, DrawnChart>> {
  return page.evaluate(() => {
    type UPlot = { series: Array<{ label?: string }>; data: Array<Array<number | null>> };
    const charts = (globalThis as unknown as { atelierCharts: Record<string, UPlot> })
      .atelierCharts;
    return Object.fromEntries(
      Object.entries(charts).map(([name, u]) => [
        name,
        {
          labels: u.series.slice(1).map((s) => String(s.label)),
          values: u.data.slice(1),
          points: u.data[0]?.length ?? 0,
        },
      ]),
    );
  });
}

/** The sum of the series labelled `label` in a chart (0 when absent). */
function total(chart: DrawnChart | undefined, label: string): number {
  const i = chart?.labels.indexOf(label) ?? -1;
  return i < 0 ? 0 : (chart?.values[i] ?? []).reduce<number>((a, v) => a + (v ?? 0), 0);
}

describe('dashboard charts in a real browser', () => {
  it('draw the time series of a small real run with uPlot, served by the dashboard itself, for 1 h, 24 h and 30 d', async () => {
    // A simulator and a real worker that writes the time series every 200 ms.
    const stack = await DrawingStack.start(ctx, { statsFlushMs: 200 });
    stack.sim.script('blocked', { submit: [{ code: 202, msg: 'content blocked' }] });
    stack.sim.script('busy provider', { submit: [{ code: 999 }] });
    stack.sim.script('slow', { query: [{ status: 0 }, { status: 0 }] });
    await stack.startWorker();

    const config = loadConfig(
      {
        REDIS_URL: ctx.url,
        ATELIER_QUEUE_PREFIX: stack.prefix,
        ATELIER_API_KEYS: 'charts-test-key',
        ATELIER_ADMIN_USER: ADMIN_USER,
        ATELIER_ADMIN_PASSWORD: ADMIN_PASSWORD,
        LOG_LEVEL: 'warn',
      },
      'api',
    );
    const { logger } = captureLogger('warn');
    const producer = createProducer(producerOptionsFromConfig(config, { logger }));
    const app = buildApi({
      producer,
      config,
      logger,
      admin: { refreshSec: 0, login: { failureDelayMs: 0 } },
    });
    ctx.onCleanup(async () => {
      await app.close();
      await producer.close();
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });

    // A few drawings: five complete (one retried, one polled three times), one is refused.
    const style = '油画';
    const resolution = '1024*1024';
    const done = [];
    for (const [text, num] of [
      ['a cat', 2],
      ['a dog', 3],
      ['a fox', 1],
      ['busy provider', 1],
      ['slow', 1],
    ] as const) {
      done.push((await producer.enqueueDrawing({ text, style, resolution, num })).id);
    }
    const { id: refused } = await producer.enqueueDrawing({ text: 'blocked', style, resolution });
    for (const id of done) await stack.completed(id, STEP_MS);
    await stack.dead(refused, STEP_MS);
    await waitFor(
      async () => {
        const s = await producer.timeSeries();
        const sum = (values: number[] | undefined) => (values ?? []).reduce((a, b) => a + b, 0);
        return sum(s.queues.drawing?.completed) === 5 && sum(s.queues.drawing?.dead) === 1;
      },
      { timeoutMs: STEP_MS, what: 'the worker to write the time series' },
    );

    const browser = await launchChromium(ctx);
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(STEP_MS);
    const browserErrors: string[] = [];
    page.on('pageerror', (error) => browserErrors.push(error.message));
    const cspViolations: string[] = [];
    const offSite: string[] = [];
    page.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) cspViolations.push(message.text());
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(base)) offSite.push(request.url());
    });

    await page.goto(`${base}/admin/login`);
    await page.fill('#user', ADMIN_USER);
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('#login-form button[type="submit"]');
    await page.waitForURL(`${base}/admin`);

    await page.goto(`${base}/admin?range=1h`);
    await page.locator('#charts[data-state="ready"]').waitFor();
    for (const name of CHARTS) {
      expect(await page.locator(`[data-chart="${name}"] canvas`).count(), name).toBeGreaterThan(0);
    }
    const charts = await drawnCharts(page);
    expect(Object.keys(charts).sort()).toEqual([...CHARTS].sort());
    // An hour by the minute.
    expect(charts.throughput?.points).toBeGreaterThanOrEqual(60);
    expect(total(charts.throughput, 'drawing completed')).toBe(5);
    expect(total(charts.failures, 'drawing dead')).toBe(1);
    expect(total(charts.failures, 'drawing retried')).toBe(1);
    expect(charts.latency?.labels).toEqual(expect.arrayContaining(['drawing p50', 'drawing p99']));
    const p99 = charts.latency?.values[charts.latency.labels.indexOf('drawing p99')] ?? [];
    expect(p99.filter((v) => v !== null && v > 0).length).toBeGreaterThan(0);
    // Polls: 1 + 1 + 1 + 1 + 3 for five tasks.
    const polls = charts.polls?.values[0]?.filter((v): v is number => v !== null) ?? [];
    expect(polls.length).toBeGreaterThan(0);
    expect(Math.max(...polls)).toBeGreaterThanOrEqual(1);
    expect(total(charts.codes, 'drawing 202')).toBe(1);
    expect(total(charts.codes, 'drawing 999')).toBe(1);
    expect(total(charts.codes, 'drawing 200')).toBeGreaterThanOrEqual(10);
    // Images per tenant per day, 30 days: 2 + 3 + 1 + 1 + 1.
    expect(charts.images?.points).toBe(30);
    expect(total(charts.images, 'default')).toBe(8);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-charts.png'), fullPage: true });

    // The other ranges: 24 h in 10-minute steps, 30 d by the hour; the same run in each.
    for (const [range, step] of [
      ['24h', 600],
      ['30d', 3600],
    ] as const) {
      await page.click(`nav.ranges a[href$="range=${range}"]`);
      await page.locator(`#charts[data-range="${range}"][data-state="ready"]`).waitFor();
      const drawn = await drawnCharts(page);
      expect(drawn.throughput?.points).toBeGreaterThanOrEqual(range === '24h' ? 144 : 720);
      expect(total(drawn.throughput, 'drawing completed')).toBe(5);
      expect(total(drawn.failures, 'drawing dead')).toBe(1);
      const x = await page.evaluate(() => {
        const u = (globalThis as unknown as { atelierCharts: Record<string, { data: number[][] }> })
          .atelierCharts.throughput;
        const times = u?.data[0] ?? [];
        return (times[1] ?? 0) - (times[0] ?? 0);
      });
      expect(x).toBe(step);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-charts-30d.png'), fullPage: true });

    // uPlot comes from the dashboard, not a CDN; nothing broke the CSP.
    expect(offSite).toEqual([]);
    expect(cspViolations).toEqual([]);
    expect(browserErrors).toEqual([]);
  });
});
