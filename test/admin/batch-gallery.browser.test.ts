import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProducer, producerOptionsFromConfig } from '@atelier/producer';
import { buildApi } from '@atelier/producer/http';
import { loadConfig } from '@atelier/shared';
import { openImageStore } from '@atelier/store';
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
const drawing = (text: string) => ({ text, style: '油画', resolution: '1024*1024' });

/** What the test reads of an `<img>` in the page (no DOM types in Node). */
interface LoadedImage {
  complete: boolean;
  naturalWidth: number;
}

/** The gallery's `<img>`s, scrolled into view (they load lazily), once every one has loaded. */
async function thumbnailsLoaded(page: Page): Promise<number[]> {
  const images = page.locator('#gallery img');
  const count = await images.count();
  for (let i = 0; i < count; i++) await images.nth(i).scrollIntoViewIfNeeded();
  return waitFor(
    async () => {
      const states = await images.evaluateAll((all) =>
        all.map((img) => {
          const { complete, naturalWidth } = img as unknown as LoadedImage;
          return { complete, naturalWidth };
        }),
      );
      return states.every((s) => s.complete) ? states.map((s) => s.naturalWidth) : undefined;
    },
    { timeoutMs: STEP_MS, what: 'the thumbnails to load' },
  );
}

describe('the batch page in a real browser', () => {
  it('shows the gallery (thumbnails from the archive load), and cancels a running batch from the page', {
    timeout: 120_000,
  }, async () => {
    const archive = await mkdtemp(join(tmpdir(), 'atelier-gallery-'));
    ctx.onCleanup(() => rm(archive, { recursive: true, force: true }));
    const store = { ATELIER_IMAGE_STORE: `fs:${archive}`, ATELIER_IMAGE_ALLOW_PRIVATE: 'true' };
    const stack = await DrawingStack.start(ctx, {
      simulator: { duration: { kind: 'fixed', ms: 300 } },
      env: { ...store, DRAWING_CONCURRENCY: '2' },
    });
    await stack.startWorker();
    const config = loadConfig(
      {
        REDIS_URL: ctx.url,
        ATELIER_QUEUE_PREFIX: stack.prefix,
        ATELIER_API_KEYS: 'browser-test-key',
        ATELIER_ADMIN_USER: ADMIN_USER,
        ATELIER_ADMIN_PASSWORD: ADMIN_PASSWORD,
        LOG_LEVEL: 'warn',
        ...store,
      },
      'api',
    );
    const { logger } = captureLogger('warn');
    const producer = createProducer(producerOptionsFromConfig(config, { logger }));
    const images = await openImageStore(config.images.store);
    const app = buildApi({
      producer,
      config,
      logger,
      ...(images ? { images } : {}),
      admin: { simulator: true, refreshSec: 0, login: { failureDelayMs: 0 } },
    });
    ctx.onCleanup(async () => {
      await app.close();
      await producer.close();
      images?.close();
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });

    // A finished batch of 5 (one of them with two images): every image archived.
    const done = await producer.createBatch(
      [0, 1, 2, 3, 4].map((i) => ({ ...drawing(`gallery ${i}`), num: i === 2 ? 2 : 1 })),
    );
    await waitFor(async () => (await producer.getBatch(done.id)).state === 'completed', {
      timeoutMs: STEP_MS,
      what: 'the first batch to complete',
    });

    const browser = await launchChromium(ctx);
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(STEP_MS);
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) problems.push(message.text());
    });
    await page.goto(`${base}/admin/batches/${encodeURIComponent(done.id)}`);
    await page.fill('#user', ADMIN_USER);
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('#login-form button[type="submit"]');

    // From the overview's batch list to the batch page.
    await page.goto(`${base}/admin`);
    await page.locator(`[data-batch="${done.id}"] a[href$="/batches/${done.id}"]`).click();
    await page.locator('#gallery').waitFor();
    expect(await page.locator('#batch-state').textContent()).toBe('completed');
    expect(await page.locator('#gallery .tile').count()).toBe(5);
    expect(await page.locator('#gallery img[loading="lazy"][data-from="archive"]').count()).toBe(5);
    const widths = await thumbnailsLoaded(page);
    expect(widths).toHaveLength(5);
    for (const width of widths) expect(width).toBeGreaterThan(0);
    expect(await page.locator('[data-item="2"]').textContent()).toContain('2 images');
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'batch-gallery.png'), fullPage: true });

    // A running batch of 60 slow items, cancelled from its page.
    stack.sim.setFaults({ delayMs: 80 });
    const running = await producer.createBatch(
      Array.from({ length: 60 }, (_, i) => drawing(`running ${i}`)),
    );
    await waitFor(async () => (await producer.getBatch(running.id)).completed >= 2, {
      timeoutMs: STEP_MS,
      what: 'the second batch to be under way',
    });
    await page.goto(`${base}/admin/batches/${encodeURIComponent(running.id)}`);
    expect(await page.locator('#batch-state').textContent()).toBe('open');
    expect(await page.locator('#gallery .tile').count()).toBe(48); // page 1 of 2
    await page.locator('#batch-actions input[name="confirm"]').check();
    await page.click('#batch-actions button.danger');
    await page.waitForURL(/notice=batch-cancelled/);
    expect(await page.locator('.notice').textContent()).toContain('cancelled');
    const submitsAtCancel = stack.sim.counters().submits;

    const final = await waitFor(
      async () => {
        const batch = await producer.getBatch(running.id);
        return batch.state === 'cancelled' ? batch : undefined;
      },
      { timeoutMs: STEP_MS, what: 'the second batch to be cancelled' },
    );
    expect(final.cancelled).toBeGreaterThan(0);
    expect(final.completed + final.cancelled).toBe(60);
    expect(stack.sim.counters().submits - submitsAtCancel).toBeLessThanOrEqual(2);
    await page.reload();
    expect(await page.locator('#batch-state').textContent()).toBe('cancelled');
    expect(await page.locator('#batch-actions button').count()).toBe(0);
    expect(await page.locator('#gallery [data-state="cancelled"]').count()).toBeGreaterThan(0);
    await page.click('#gallery a[rel="next"]');
    await page.waitForURL(/page=2/);
    expect(await page.locator('#gallery .tile').count()).toBe(12);
    await page.screenshot({ path: join(ARTIFACTS, 'batch-cancelled.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
