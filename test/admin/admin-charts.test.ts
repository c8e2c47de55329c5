import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { STATS_FIELD, TimeSeries } from '@atelier/store';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { startAdmin } from './admin-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

/** uPlot as the producer package resolves it. */
const UPLOT = createRequire(
  fileURLToPath(new URL('../../packages/producer/package.json', import.meta.url)),
).resolve('uplot/dist/uPlot.iife.min.js');
const MINUTE = 60_000;

describe('dashboard charts: files and data', () => {
  it('the overview links uPlot and the chart script as versioned files of its own, never inline', async () => {
    const admin = await startAdmin(ctx);
    const session = await admin.login();
    const page = await session.get('/admin?range=24h');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-range="24h"');
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    const sources = [...page.body.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1] as string);
    expect(sources).toEqual([
      expect.stringMatching(/^\/admin\/assets\/uplot\.js\?v=[0-9a-f]{12}$/),
      expect.stringMatching(/^\/admin\/assets\/overview-charts\.js\?v=[0-9a-f]{12}$/),
    ]);
    // An unknown range falls back to the first.
    expect((await session.get('/admin?range=1y')).body).toContain('data-range="1h"');

    const uplot = await session.get(sources[0] as string);
    expect(uplot.statusCode).toBe(200);
    expect(uplot.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(uplot.body).toBe(readFileSync(UPLOT, 'utf8'));
    expect(uplot.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect(uplot.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await session.get('/admin/assets/uplot.css')).headers['content-type']).toBe(
      'text/css; charset=utf-8',
    );
    expect((await session.get('/admin/assets/nothing.js')).statusCode).toBe(404);
    // Behind the login like every dashboard page.
    const stranger = await admin.request('GET', '/admin/assets/uplot.js', {
      headers: { accept: 'application/json' },
    });
    expect(stranger.statusCode).toBe(401);
  });

  it('GET /admin/stats answers the series of GET /v1/stats, and names the field of a bad query', async () => {
    const admin = await startAdmin(ctx, { env: { ATELIER_ADMIN_KEYS: 'ops:stats-admin-key' } });
    const minute = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
    await new TimeSeries(ctx.connection(), admin.prefix).add(
      new Map([[minute, new Map([[STATS_FIELD.queue('drawing', 'completed'), 3]])]]),
    );
    const session = await admin.login();
    const json = { accept: 'application/json' };
    const query = `from=${minute}&to=${minute + MINUTE}&step=60`;
    const dashboard = await session.get(`/admin/stats?${query}`, json);
    expect(dashboard.statusCode).toBe(200);
    expect(JSON.parse(dashboard.body).queues.drawing.completed).toEqual([3]);
    const api = await admin.request('GET', `/v1/stats?${query}`, {
      headers: { authorization: 'Bearer stats-admin-key' },
    });
    expect(JSON.parse(api.body)).toEqual(JSON.parse(dashboard.body));

    const bad = await session.get('/admin/stats?step=90', json);
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body).error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(JSON.parse(bad.body).error.message).toContain('step');
    expect((await admin.request('GET', '/admin/stats', { headers: json })).statusCode).toBe(401);
  });
});
