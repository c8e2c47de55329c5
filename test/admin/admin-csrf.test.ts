import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { startAdmin } from './admin-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

describe('dashboard CSRF protection', () => {
  it('refuses state-changing requests without the session token, and does nothing', async () => {
    const admin = await startAdmin(ctx);
    const session = await admin.login();
    const other = await admin.login();
    expect(other.csrf).not.toBe(session.csrf);
    const attempts: Array<Record<string, string>> = [{}, { _csrf: '' }, { _csrf: 'forged' }];
    attempts.push({ _csrf: other.csrf }); // a token of another session
    for (const form of attempts) {
      const res = await admin.request('POST', '/admin/queue/drawing/pause', {
        headers: { cookie: session.cookie, accept: 'text/html' },
        form,
      });
      expect(res.statusCode, JSON.stringify(form)).toBe(403);
      expect(res.body).toContain('reload the page and try again');
    }
    expect(await admin.drawingQueue.isPaused()).toBe(false);
    const logout = await admin.request('POST', '/admin/logout', {
      headers: { cookie: session.cookie },
      form: {},
    });
    expect(logout.statusCode).toBe(403);

    const ok = await session.post('/admin/queue/drawing/pause');
    expect(ok.statusCode).toBe(303);
    expect(await admin.drawingQueue.isPaused()).toBe(true);
  });

  it('accepts the token as an X-CSRF-Token header (scripts), never without it', async () => {
    const admin = await startAdmin(ctx);
    const session = await admin.login();
    const without = await admin.request('POST', '/admin/queue/drawing/pause', {
      headers: { cookie: session.cookie, accept: 'application/json' },
      json: {},
    });
    expect(without.statusCode).toBe(403);
    expect(JSON.parse(without.body).error.code).toBe('CSRF_REJECTED');
    const withHeader = await admin.request('POST', '/admin/queue/drawing/pause', {
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
      json: {},
    });
    expect(withHeader.statusCode).toBe(303);
    expect(await admin.drawingQueue.isPaused()).toBe(true);
  });

  it('bull-board is read-only: its mutations are refused even with a session', async () => {
    const admin = await startAdmin(ctx);
    const session = await admin.login();
    const noToken = await admin.request('PUT', '/admin/queues/api/queues/drawing/pause', {
      headers: { cookie: session.cookie },
    });
    expect(noToken.statusCode).toBe(403);
    const withToken = await admin.request('PUT', '/admin/queues/api/queues/drawing/pause', {
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
    });
    expect(withToken.statusCode).toBe(405);
    expect(await admin.drawingQueue.isPaused()).toBe(false);
  });
});
