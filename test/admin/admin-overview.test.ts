import { atelierKeys, QUEUE_NAMES } from '@atelier/shared';
import { BatchLedger, DeadLetterStore, RecentErrors } from '@atelier/store';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { deadLetter, startAdmin } from './admin-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

/** The inside of the table row marked `data-<attr>="<value>"`. */
function row(page: string, attr: string, value: string): string {
  const match = new RegExp(`<tr data-${attr}="${value}">([\\s\\S]*?)</tr>`).exec(page);
  if (!match?.[1]) throw new Error(`no row data-${attr}="${value}"`);
  return match[1];
}

function cells(rowHtml: string): string[] {
  return [...rowHtml.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) =>
    (m[1] ?? '').replace(/<[^>]+>/g, '').trim(),
  );
}

describe('dashboard overview', () => {
  it('shows queues, batches, dead-letter groups, provider health, tickets and recent errors', async () => {
    const admin = await startAdmin(ctx);
    const { redis, prefix } = admin;
    const keys = atelierKeys(prefix);
    const now = Date.now();
    const cme = new Queue(QUEUE_NAMES.cme, { connection: redis, prefix });
    ctx.onCleanup(() => cme.close());

    await admin.producer.enqueueDrawing({
      text: 'waiting one',
      style: '油画',
      resolution: '1024*1024',
    });
    const ledger = new BatchLedger(redis, prefix);
    await ledger.create('b_overview', 4);
    await ledger.markEnqueued('b_overview', 4);
    await ledger.settle('b_overview', { index: 0, jobId: 'j0', state: 'completed', images: [] });
    await ledger.settle('b_overview', { index: 1, jobId: 'j1', state: 'completed', images: [] });
    await ledger.settle('b_overview', { index: 2, jobId: 'j2', state: 'dead', code: '202' });
    const store = new DeadLetterStore(redis, prefix);
    await store.insert(deadLetter('dr_a', '202'));
    await store.insert(deadLetter('dr_b', '202'));
    await store.insert(deadLetter('dr_c', 'POLL_TIMEOUT'));
    await redis.set(
      keys.drawing.outage,
      JSON.stringify({ code: '501', openedAt: now - 5000, until: now + 120_000 }),
    );
    await redis.set(
      keys.halt('cme'),
      JSON.stringify({
        queue: 'cme',
        code: 'AuthFailure.SecretIdNotFound',
        message: 'CME does not know our SecretId',
        at: now - 60_000,
        credentials: 'f00d',
      }),
    );
    await cme.pause();
    await admin.drawingQueue.rateLimit(60_000);
    const ticketKey = keys.cme.ticket('platform-a', 'user_001');
    await redis.hset(ticketKey, {
      authorization: 'the-ticket-itself-9z9z',
      tfUid: 'tf-uid-1',
      obtainedAt: String(now - 2 * 3_600_000),
      refreshes: '3',
    });
    await redis.sadd(keys.cme.ticketIndex, JSON.stringify(['platform-a', 'user_001']));
    const errors = new RecentErrors(redis, prefix);
    for (let i = 0; i < 3; i++) {
      await errors.record({
        at: now - i,
        queue: 'drawing',
        jobId: `j${i}`,
        code: '429',
        kind: 'throttled',
      });
    }
    await errors.record({ at: now, queue: 'cme', jobId: 'c1', code: 'AuthFailure', kind: 'auth' });

    const session = await admin.login();
    const res = await session.get('/admin');
    expect(res.statusCode).toBe(200);
    const page = res.body;
    // The stylesheet is a constant: inserted as is, not HTML-escaped.
    expect(page).toContain('"Segoe UI"');
    expect(page).not.toContain('&quot;Segoe');

    for (const queue of ['drawing', 'cme', 'callbacks'])
      expect(page).toContain(`data-queue="${queue}"`);
    expect(cells(row(page, 'queue', 'drawing')).slice(0, 3)).toEqual(['drawing', 'throttled', '1']);
    expect(cells(row(page, 'queue', 'cme'))[1]).toBe('halted');
    expect(cells(row(page, 'queue', 'callbacks'))[1]).toBe('running');

    expect(cells(row(page, 'batch', 'b_overview'))[1]).toBe('default');
    expect(cells(row(page, 'batch', 'b_overview')).slice(3, 9)).toEqual([
      '4',
      '2',
      '1',
      '0',
      '1',
      'open',
    ]);
    expect(row(page, 'batch', 'b_overview')).toContain('style="width:50.0%"');
    expect(row(page, 'batch', 'b_overview')).toContain('href="/admin/batches/b_overview/results"');
    expect(row(page, 'batch', 'b_overview')).toContain('href="/admin/batches/b_overview"');

    expect(page).toContain('Dead letters (3)');
    expect(cells(row(page, 'dead-code', '202')).slice(0, 2)).toEqual(['202', '2']);
    expect(cells(row(page, 'dead-code', 'POLL_TIMEOUT')).slice(0, 2)).toEqual([
      'POLL_TIMEOUT',
      '1',
    ]);
    expect(row(page, 'dead-code', '202')).toContain('Replay all with code 202');

    expect(page).toMatch(
      /id="outage"><span class="badge bad">outage window open<\/span>[^<]*<code>501<\/code>/,
    );
    expect(row(page, 'health', 'drawing')).toContain('throttled');
    const cmeHealth = row(page, 'health', 'cme');
    expect(cmeHealth).toContain('AuthFailure.SecretIdNotFound');
    expect(cmeHealth).toContain('CME does not know our SecretId');
    expect(cmeHealth).toContain('action="/admin/queue/cme/resume"');

    const ticket = cells(row(page, 'ticket', 'platform-a:user_001'));
    expect(ticket.slice(0, 4)).toEqual(['platform-a', 'user_001', 'active', '2 h']);
    expect(ticket[5]).toBe('3');
    expect(page).not.toContain('the-ticket-itself-9z9z');

    expect(cells(row(page, 'error-code', '429')).slice(0, 4)).toEqual([
      '429',
      'drawing',
      '3',
      'throttled',
    ]);
    expect(cells(row(page, 'error-code', 'AuthFailure')).slice(0, 3)).toEqual([
      'AuthFailure',
      'cme',
      '1',
    ]);
    expect(page).toContain('<meta http-equiv="refresh" content="5">');
  });

  it('shows the SIMULATOR banner when ATELIER_SIMULATOR is set, as bin/api.ts builds the API', async () => {
    const simulated = await startAdmin(ctx, {
      env: { ATELIER_SIMULATOR: 'drawing,cme' },
      fromConfig: true,
    });
    const session = await simulated.login();
    expect((await session.get('/admin')).body).toContain('id="simulator-banner"');
    expect((await session.get('/admin/dead-letters')).body).toContain('id="simulator-banner"');

    const real = await startAdmin(ctx, { env: { ATELIER_SIMULATOR: '' }, fromConfig: true });
    const page = (await (await real.login()).get('/admin')).body;
    expect(page).toContain('data-queue="drawing"');
    expect(page).not.toContain('simulator-banner');
  });

  it('"Resume queue" clears the halt and resumes the queue', async () => {
    const admin = await startAdmin(ctx);
    const { redis, prefix } = admin;
    const haltKey = atelierKeys(prefix).halt('drawing');
    await redis.set(
      haltKey,
      JSON.stringify({
        queue: 'drawing',
        code: 'APIG.0301',
        message: 'bad AppKey',
        at: Date.now(),
      }),
    );
    await admin.drawingQueue.pause();
    const session = await admin.login();
    expect(row((await session.get('/admin')).body, 'health', 'drawing')).toContain('APIG.0301');

    const res = await session.post('/admin/queue/drawing/resume');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/admin?notice=resumed&queue=drawing');
    expect(await admin.drawingQueue.isPaused()).toBe(false);
    expect(await redis.exists(haltKey)).toBe(0);
    const after = (await session.get(String(res.headers.location))).body;
    expect(after).toContain('Queue drawing resumed.');
    expect(cells(row(after, 'queue', 'drawing'))[1]).toBe('running');
    expect((await session.post('/admin/queue/nope/resume')).statusCode).toBe(404);
  });

  it("serves a batch's results, masked, and 404 for an unknown batch", async () => {
    const admin = await startAdmin(ctx);
    const ledger = new BatchLedger(admin.redis, admin.prefix);
    await ledger.create('b_res', 2);
    await ledger.markEnqueued('b_res', 2);
    await ledger.settle('b_res', {
      index: 0,
      jobId: 'j0',
      state: 'completed',
      images: ['https://obs.example/img.png?Signature=s1g-abc&Expires=1'],
    });
    const session = await admin.login();
    const res = await session.get('/admin/batches/b_res/results');
    expect(res.statusCode).toBe(200);
    const lines = res.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0].images[0]).toBe('https://obs.example/img.png?Signature=[redacted]&Expires=1');
    expect(lines[1].state).toBe('pending');
    expect((await session.get('/admin/batches/b_nope/results')).statusCode).toBe(404);
  });

  it('answers 503 REDIS_UNAVAILABLE within a second while Redis is down (overview and queue actions)', async () => {
    let server: RedisServer = await startRedisServer();
    const own = new RedisTestContext(server.url);
    try {
      const admin = await startAdmin(own);
      admin.redis.on('error', () => undefined);
      admin.drawingQueue.on('error', () => undefined);
      const session = await admin.login();
      expect((await session.get('/admin')).statusCode).toBe(200);

      await server.kill();
      for (const call of [
        () => session.get('/admin', { accept: 'application/json' }),
        () => session.post('/admin/queue/drawing/pause'),
      ]) {
        const started = Date.now();
        const res = await call();
        expect(Date.now() - started).toBeLessThan(1000);
        expect(res.statusCode).toBe(503);
      }
      const json = await session.get('/admin', { accept: 'application/json' });
      expect(JSON.parse(json.body).error.code).toBe('REDIS_UNAVAILABLE');
      server = await startRedisServer({ port: server.port }); // for the cleanup
    } finally {
      await own.cleanup().catch(() => undefined);
      await server.stop();
    }
  });
});
