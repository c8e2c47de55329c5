import { batchItemJobId, createProducer, producerOptionsFromConfig } from '@atelier/producer';
import { buildApi } from '@atelier/producer/http';
import { loadConfig } from '@atelier/shared';
import { DeadLetterStore } from '@atelier/store';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { DRAWING } from '../producer/api-harness.ts';
import { captureLogger } from '../support/capture-logger.ts';
import { launchChromium } from '../support/chromium.ts';
import { RedisTestContext } from '../support/redis-context.ts';
import { ADMIN_PASSWORD, ADMIN_USER } from './admin-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const STEP_MS = 30_000;

async function texts(page: Page, selector: string): Promise<string[]> {
  return (await page.locator(selector).allTextContents()).map((t) => t.trim());
}

describe('the dashboard in a real browser, with tenants', () => {
  it('shows the tenant of every batch and dead letter, and filters by tenant', async () => {
    const prefix = ctx.prefix('dash-tenants');
    const config = loadConfig(
      {
        REDIS_URL: ctx.url,
        ATELIER_QUEUE_PREFIX: prefix,
        ATELIER_API_KEYS: 'acme:key-acme-0001,beta:key-beta-0001',
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

    // Each tenant's work, through its own key.
    const acmeBatch = await producer.forTenant('acme').createBatch([DRAWING, DRAWING]);
    const betaBatch = await producer.forTenant('beta').createBatch([DRAWING]);
    const dead = new DeadLetterStore(ctx.connection(), prefix);
    for (const [id, tenant] of [
      ['dr_gone-1@acme', 'acme'],
      ['dr_gone-2@beta', 'beta'],
      ['dr_gone-3@beta', 'beta'],
    ] as const) {
      await dead.insert({
        id,
        queue: 'drawing',
        kind: 'drawing',
        code: '202',
        message: 'blocked',
        attempts: 1,
        history: [],
        request: { ...DRAWING, num: 1 },
        meta: { enqueuedAt: 1, tenant },
        failedAt: Date.now(),
      });
    }

    const browser = await launchChromium(ctx);
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(STEP_MS);
    const browserErrors: string[] = [];
    page.on('pageerror', (error) => browserErrors.push(error.message));
    await page.goto(`${base}/admin`);
    await page.fill('#user', ADMIN_USER);
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('#login-form button[type="submit"]');
    await page.locator('#queues').waitFor();

    // Every batch shows its tenant; the filter lists the configured tenants.
    expect(await texts(page, '#tenant-filter [data-tenant-choice]')).toEqual([
      'all',
      'acme',
      'beta',
    ]);
    expect(await page.locator(`[data-batch="${acmeBatch.id}"] [data-tenant]`).textContent()).toBe(
      'acme',
    );
    expect(await page.locator(`[data-batch="${betaBatch.id}"] [data-tenant]`).textContent()).toBe(
      'beta',
    );

    // Filter to beta: only beta's batch, and beta's count of dead letters.
    await page.click('#tenant-filter [data-tenant-choice="beta"]');
    await page.waitForURL(/\/admin\?tenant=beta$/);
    expect(await page.locator('#tenant-filter [aria-current="page"]').textContent()).toBe('beta');
    expect(await page.locator('[data-batch]').count()).toBe(1);
    expect(await page.locator(`[data-batch="${betaBatch.id}"]`).count()).toBe(1);
    expect(await page.locator('#tenant-dead-letters').textContent()).toContain('2 dead letters');

    // Through to its dead letters: beta's only, each showing its tenant; then all of them.
    await page.click('#tenant-dead-letters a');
    await page.waitForURL(/\/admin\/dead-letters\?tenant=beta$/);
    expect((await texts(page, '[data-dead-letter] [data-tenant]')).sort()).toEqual([
      'beta',
      'beta',
    ]);
    expect(await page.locator('[data-dead-letter="dr_gone-1@acme"]').count()).toBe(0);
    await page.click('#tenant-filter [data-tenant-choice="all"]');
    await page.waitForURL(/\/admin\/dead-letters$/);
    expect((await texts(page, '[data-dead-letter] [data-tenant]')).sort()).toEqual([
      'acme',
      'beta',
      'beta',
    ]);
    // A dead letter's page and a job's page name the tenant.
    await page.click('[data-dead-letter="dr_gone-1@acme"] a');
    expect(await page.locator('#dead-tenant').textContent()).toBe('acme');
    await page.goto(`${base}/admin/jobs/${encodeURIComponent(batchItemJobId(betaBatch.id, 0))}`);
    expect(await page.locator('#job-tenant').textContent()).toBe('beta');
    expect(browserErrors).toEqual([]);
  }, 120_000);
});
