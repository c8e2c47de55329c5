import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import type { RedisTestContext } from './redis-context.ts';

/** The system chromium, headless, in a throwaway profile (closed by the context's cleanup). */
export async function launchChromium(ctx: RedisTestContext): Promise<BrowserContext> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'atelier-chromium-'));
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1400, height: 1000 },
  });
  ctx.onCleanup(async () => {
    await browser.close();
    await rm(userDataDir, { recursive: true, force: true });
  });
  return browser;
}
