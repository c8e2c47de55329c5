import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { ADMIN_PASSWORD, ADMIN_USER, cookieFrom, fieldValue, startAdmin } from './admin-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

const PROTECTED_PAGES = [
  '/admin',
  '/admin/',
  '/admin/dead-letters',
  '/admin/dead-letters/dr_x',
  '/admin/jobs/dr_x',
  '/admin/queues/',
  '/admin/queues/queue/drawing',
];

describe('dashboard login', () => {
  it('is off with a clear 404 when no admin login is configured', async () => {
    const admin = await startAdmin(ctx, { noLogin: true });
    for (const url of ['/admin', '/admin/login', '/admin/queues/api/queues']) {
      const res = await admin.request('GET', url);
      expect(res.statusCode, url).toBe(404);
      expect(JSON.parse(res.body).error.message).toContain(
        'set ATELIER_ADMIN_USER and ATELIER_ADMIN_PASSWORD',
      );
    }
    // The API itself is unaffected.
    expect((await admin.request('GET', '/healthz')).statusCode).toBe(200);
  });

  it('sends browsers to the login page and scripts a 401, bull-board included', async () => {
    const admin = await startAdmin(ctx);
    for (const url of PROTECTED_PAGES) {
      const res = await admin.request('GET', url, { headers: { accept: 'text/html' } });
      expect(res.statusCode, url).toBe(302);
      expect(res.headers.location).toBe(`/admin/login?next=${encodeURIComponent(url)}`);
    }
    for (const url of [
      '/admin/queues/api/queues',
      '/admin/queues/api/queues/drawing/dr_x',
      '/admin/queues/api/redis/stats',
      '/admin/queues/static/images/logo.svg',
    ]) {
      const res = await admin.request('GET', url, { headers: { accept: 'text/html' } });
      expect(res.statusCode, url).toBe(401);
      expect(JSON.parse(res.body).error.code).toBe('UNAUTHORIZED');
    }
    const json = await admin.request('GET', '/admin', { headers: { accept: 'application/json' } });
    expect(json.statusCode).toBe(401);
    // State-changing requests by strangers: refused before anything is read or done.
    const put = await admin.request('PUT', '/admin/queues/api/queues/drawing/pause');
    expect(put.statusCode).toBe(401);
    const post = await admin.request('POST', '/admin/queue/drawing/pause', { form: {} });
    expect(post.statusCode).toBe(303);
    expect(post.headers.location).toBe('/admin/login?next=%2Fadmin');
    expect(await admin.drawingQueue.isPaused()).toBe(false);
  });

  it('refuses a wrong user or password, and a form that did not come from the login page', async () => {
    const admin = await startAdmin(ctx);
    const form = await admin.request('GET', '/admin/login');
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('type="password"');
    const loginCookie = cookieFrom(form, 'atelier_admin_login');
    const token = fieldValue(form.body, '_login');
    for (const [user, password] of [
      [ADMIN_USER, 'wrong'],
      ['root', ADMIN_PASSWORD],
      [ADMIN_USER, ''],
      [ADMIN_USER, `${ADMIN_PASSWORD} `],
    ]) {
      const res = await admin.request('POST', '/admin/login', {
        headers: { cookie: loginCookie },
        form: { user: user as string, password: password as string, _login: token },
      });
      expect(res.statusCode).toBe(401);
      expect(res.body).toContain('Wrong user or password.');
      expect(String(res.headers['set-cookie'])).not.toContain('atelier_admin_session=');
    }
    // Right credentials, but no login-form token / cookie.
    const noToken = await admin.request('POST', '/admin/login', {
      headers: { cookie: loginCookie },
      form: { user: ADMIN_USER, password: ADMIN_PASSWORD },
    });
    expect(noToken.statusCode).toBe(403);
    const noCookie = await admin.request('POST', '/admin/login', {
      form: { user: ADMIN_USER, password: ADMIN_PASSWORD, _login: token },
    });
    expect(noCookie.statusCode).toBe(403);
    expect(admin.logs.text()).not.toContain(ADMIN_PASSWORD);
  });

  it('logs in with a signed HttpOnly SameSite=Strict cookie and goes back where it was sent from', async () => {
    const admin = await startAdmin(ctx);
    const form = await admin.request('GET', '/admin/login?next=%2Fadmin%2Fdead-letters');
    const res = await admin.request('POST', '/admin/login', {
      headers: { cookie: cookieFrom(form, 'atelier_admin_login') },
      form: {
        user: ADMIN_USER,
        password: ADMIN_PASSWORD,
        _login: fieldValue(form.body, '_login'),
        next: fieldValue(form.body, 'next'),
      },
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/admin/dead-letters');
    const setCookie = [res.headers['set-cookie']].flat().map(String);
    const session = setCookie.find((c) => c.startsWith('atelier_admin_session='));
    expect(session).toMatch(/; Path=\/admin; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect(session).not.toContain(ADMIN_PASSWORD);
    const cookie = cookieFrom(res, 'atelier_admin_session');
    const page = await admin.request('GET', '/admin', { headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<h1>Overview</h1>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['cache-control']).toBe('no-store');

    // A tampered cookie is nobody's.
    const [payload, mac] = cookie.slice('atelier_admin_session='.length).split('.') as [
      string,
      string,
    ];
    const forged = JSON.parse(Buffer.from(payload, 'base64url').toString());
    forged.expiresAt += 10 * 365 * 86_400_000;
    const tampered = `atelier_admin_session=${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${mac}`;
    const refused = await admin.request('GET', '/admin', { headers: { cookie: tampered } });
    expect(refused.statusCode).toBe(302);
  });

  it('marks the cookie Secure when the request came over https (behind a TLS proxy)', async () => {
    const admin = await startAdmin(ctx);
    const form = await admin.request('GET', '/admin/login', {
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(String(form.headers['set-cookie'])).toMatch(/^atelier_admin_login=.*; Secure$/);
    const res = await admin.request('POST', '/admin/login', {
      headers: { cookie: cookieFrom(form, 'atelier_admin_login'), 'x-forwarded-proto': 'https' },
      form: { user: ADMIN_USER, password: ADMIN_PASSWORD, _login: fieldValue(form.body, '_login') },
    });
    const session = [res.headers['set-cookie']].flat().map(String)[0];
    expect(session).toMatch(
      /^atelier_admin_session=.*; HttpOnly; SameSite=Strict; Max-Age=43200; Secure$/,
    );
  });

  it('never redirects outside the dashboard after login', async () => {
    const admin = await startAdmin(ctx);
    for (const next of [
      'https://evil.example/',
      '//evil.example/admin',
      '/v1/jobs',
      '/admin/../x\\y',
    ]) {
      const form = await admin.request('GET', `/admin/login?next=${encodeURIComponent(next)}`);
      const res = await admin.request('POST', '/admin/login', {
        headers: { cookie: cookieFrom(form, 'atelier_admin_login') },
        form: {
          user: ADMIN_USER,
          password: ADMIN_PASSWORD,
          _login: fieldValue(form.body, '_login'),
          next,
        },
      });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location, next).toBe('/admin');
    }
  });

  it('ends sessions after their lifetime, and on logout', async () => {
    let now = Date.now();
    const admin = await startAdmin(ctx, {
      admin: { sessionTtlMs: 60_000, now: () => now, login: { failureDelayMs: 0 } },
    });
    const session = await admin.login();
    expect((await session.get('/admin')).statusCode).toBe(200);
    now += 61_000;
    expect((await session.get('/admin')).statusCode).toBe(302);

    now = Date.now();
    const other = await admin.login();
    const logout = await other.post('/admin/logout');
    expect(logout.statusCode).toBe(303);
    expect(logout.headers.location).toBe('/admin/login?notice=logged-out');
    expect(String(logout.headers['set-cookie'])).toMatch(/^atelier_admin_session=; .*Max-Age=0/);
  });

  it('locks an address out after too many failed logins', async () => {
    const admin = await startAdmin(ctx, {
      admin: { login: { maxFailures: 3, failureDelayMs: 0 } },
    });
    const attempt = async (password: string) => {
      const form = await admin.request('GET', '/admin/login');
      return admin.request('POST', '/admin/login', {
        headers: { cookie: cookieFrom(form, 'atelier_admin_login') },
        form: { user: ADMIN_USER, password, _login: fieldValue(form.body, '_login') },
      });
    };
    expect((await attempt('guess-1')).statusCode).toBe(401);
    expect((await attempt('guess-2')).statusCode).toBe(401);
    expect((await attempt('guess-3')).statusCode).toBe(401);
    const locked = await attempt(ADMIN_PASSWORD);
    expect(locked.statusCode).toBe(429);
    expect(locked.body).toContain('Too many failed logins');
  });
});
