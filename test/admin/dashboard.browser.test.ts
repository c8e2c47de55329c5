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
import { ADMIN_PASSWORD, ADMIN_USER } from './admin-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
const STEP_MS = 30_000;

async function bodyText(page: Page): Promise<string> {
  return (await page.locator('body').textContent()) ?? '';
}

describe('dashboard in a real browser', () => {
  it('refuses strangers, logs in, shows the overview, replays a dead letter and shows it complete', async () => {
    // A drawing simulator and a worker in-process; the first submit of this text is refused 202.
    const stack = await DrawingStack.start(ctx);
    const text = 'a picture the moderator blocks once';
    stack.sim.script(text, { submit: [{ code: 202, msg: 'content blocked' }] });
    await stack.startWorker();

    // The API with the dashboard, on a real port, on the same deployment (prefix).
    const config = loadConfig(
      {
        REDIS_URL: ctx.url,
        ATELIER_QUEUE_PREFIX: stack.prefix,
        ATELIER_API_KEYS: 'browser-test-key',
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
      admin: { simulator: true, refreshSec: 0, login: { failureDelayMs: 0 } },
    });
    ctx.onCleanup(async () => {
      await app.close();
      await producer.close();
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });

    // A real dead letter: the worker submits, the simulator answers 202.
    const { id } = await producer.enqueueDrawing({ text, style: '油画', resolution: '1024*1024' });
    const entry = await stack.dead(id, STEP_MS);
    expect(entry.code).toBe('202');

    const browser = await launchChromium(ctx);
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(STEP_MS);
    const browserErrors: string[] = [];
    page.on('pageerror', (error) => browserErrors.push(error.message));
    // The dashboard's CSP must not break anything but bull-board's third-party web font.
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      const line = message.text();
      if (line.includes('Content Security Policy') && !line.includes('fonts.googleapis.com')) {
        cspViolations.push(line);
      }
    });

    // Strangers get the login page, not the dashboard.
    await page.goto(`${base}/admin`);
    await page.locator('#login-form').waitFor();
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    expect(await page.locator('#queues').count()).toBe(0);
    await page.goto(`${base}/admin/queues/`);
    await page.locator('#login-form').waitFor();

    // A wrong password is refused.
    await page.fill('#user', ADMIN_USER);
    await page.fill('#password', 'not the password');
    await page.click('#login-form button[type="submit"]');
    await page.locator('#login-error').waitFor();
    expect(await page.locator('#login-error').textContent()).toContain('Wrong user or password');

    // Log in: back to where we were sent from (bull-board), then the overview.
    await page.fill('#user', ADMIN_USER);
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('#login-form button[type="submit"]');
    await page.waitForURL(`${base}/admin/queues/`);
    // bull-board's own UI renders (its assets load under the base path), listing our queues.
    for (const queue of ['drawing', 'cme', 'callbacks']) {
      await page.getByText(queue, { exact: true }).first().waitFor();
    }

    await page.goto(`${base}/admin`);
    await page.locator('#queues').waitFor();
    for (const queue of ['drawing', 'cme', 'callbacks']) {
      await page.locator(`[data-queue="${queue}"]`).waitFor();
    }
    expect(await page.locator('#simulator-banner').textContent()).toContain('SIMULATOR');
    const group = page.locator('[data-dead-code="202"]');
    await group.waitFor();
    expect(await group.textContent()).toMatch(/202\s+1/);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

    // Open the dead letter: from its code group to the list, then the entry.
    await group.locator('a').first().click();
    await page.waitForURL(/\/admin\/dead-letters\?code=202/);
    await page.locator(`[data-dead-letter="${id}"] a`).click();
    await page.locator('#dead-letter').waitFor();
    expect(await page.locator('#dead-code').textContent()).toBe('202');
    expect(await bodyText(page)).toContain('content blocked');

    // Replay: the script is used up, so the resubmit succeeds; the job page follows it.
    await page.click('form[action$="/replay"] button[type="submit"]');
    await page.waitForURL(/\/admin\/jobs\//);
    await page.locator('[data-job-state="completed"]').waitFor({ timeout: STEP_MS });
    expect(await bodyText(page)).toContain('replayed');
    expect(stack.sim.submitsFor(text)).toBe(2);

    // The dead letter is gone from the overview; bull-board shows the job completed.
    await page.goto(`${base}/admin`);
    await page.locator('#no-dead-letters').waitFor();
    await page.locator('[data-queue="drawing"]').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-after-replay.png'), fullPage: true });

    // bull-board: the job is in the drawing queue's completed list, and its page says finished.
    await page.goto(`${base}/admin/queues/queue/drawing?status=completed`);
    await page.getByText(id).first().waitFor();
    await page.goto(`${base}/admin/queues/queue/drawing/${encodeURIComponent(id)}`);
    await page.getByText(id).first().waitFor();
    await page.getByText('Finished at').first().waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-bull-board-job.png') });
    const status = await page.evaluate(async (jobId) => {
      const res = await fetch(`api/queues/drawing/${encodeURIComponent(jobId)}`);
      return ((await res.json()) as { status: string }).status;
    }, id);
    expect(status).toBe('completed');
    expect(browserErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });
});
