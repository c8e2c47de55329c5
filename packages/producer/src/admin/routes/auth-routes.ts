import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AdminContext, pageContext } from '../admin-context.ts';
import { ADMIN_PATHS, LOGIN_COOKIE, SESSION_COOKIE, safeNext } from '../admin-paths.ts';
import { parseCookies, serializeCookie } from '../cookies.ts';
import { noticeFor, withNotice } from '../notice.ts';
import { loginPage } from '../pages/login-page.ts';

type LoginBody = { user?: unknown; password?: unknown; _login?: unknown; next?: unknown };

const LOGIN_FORM_TTL_SEC = 3600;

/**
 * `GET/POST /admin/login` and `POST /admin/logout`. The login form is bound to a short-lived
 * pre-session cookie (login CSRF); failures are answered slower and slower and lock the client
 * address out after too many (see `LoginThrottle`).
 */
export function authRoutes(scope: FastifyInstance, ctx: AdminContext): void {
  const { options, signer, credentials, throttle } = ctx;
  // Behind a TLS-terminating proxy Fastify sees http; trusting the proxy's header here is safe
  // (a forged value only makes the forger's own cookie Secure).
  const secure = (request: FastifyRequest) =>
    request.protocol === 'https' ||
    String(request.headers['x-forwarded-proto'] ?? '')
      .split(',')[0]
      ?.trim() === 'https';

  const showLogin = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    form: { next: string; user?: string; error?: string },
  ) => {
    const nonce = signer.newLoginNonce();
    reply.header(
      'set-cookie',
      serializeCookie(LOGIN_COOKIE, nonce, {
        path: ADMIN_PATHS.base,
        maxAgeSec: LOGIN_FORM_TTL_SEC,
        secure: secure(request),
      }),
    );
    const notice = noticeFor(request.query);
    const page = loginPage(pageContext(ctx, request, notice ? { notice } : {}), {
      ...form,
      token: signer.loginToken(nonce),
    });
    return reply.code(status).type('text/html; charset=utf-8').send(page);
  };

  scope.get<{ Querystring: { next?: string } }>('/login', async (request, reply) => {
    const next = safeNext(request.query.next);
    const cookie = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
    if (signer.verify(cookie, credentials.user, options.now())) return reply.redirect(next, 302);
    return showLogin(request, reply, 200, { next });
  });

  scope.post<{ Body: LoginBody }>('/login', async (request, reply) => {
    const body = (request.body ?? {}) as LoginBody;
    const next = safeNext(body.next);
    const user = typeof body.user === 'string' ? body.user.slice(0, 200) : '';
    const now = options.now();
    const locked = throttle.lockedFor(request.ip, now);
    if (locked > 0) {
      const minutes = Math.ceil(locked / 60_000);
      return showLogin(request, reply, 429, {
        next,
        user,
        error: `Too many failed logins from your address: try again in ${minutes} minute(s).`,
      });
    }
    const nonce = parseCookies(request.headers.cookie).get(LOGIN_COOKIE);
    if (!signer.checkLoginToken(nonce, body._login)) {
      return showLogin(request, reply, 403, {
        next,
        user,
        error: 'The login form expired or did not come from this dashboard: please try again.',
      });
    }
    if (!credentials.check(body.user, body.password)) {
      const delayMs = throttle.failed(request.ip, now);
      options.logger.warn({ ip: request.ip }, 'dashboard login refused');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return showLogin(request, reply, 401, { next, user, error: 'Wrong user or password.' });
    }
    throttle.succeeded(request.ip);
    const { token } = signer.issue(credentials.user, now, options.sessionTtlMs);
    options.logger.info({ ip: request.ip, user: credentials.user }, 'dashboard login');
    reply.header('set-cookie', [
      serializeCookie(SESSION_COOKIE, token, {
        path: ADMIN_PATHS.base,
        maxAgeSec: options.sessionTtlMs / 1000,
        secure: secure(request),
      }),
      serializeCookie(LOGIN_COOKIE, '', {
        path: ADMIN_PATHS.base,
        maxAgeSec: 0,
        secure: secure(request),
      }),
    ]);
    return reply.redirect(next, 303);
  });

  scope.post('/logout', async (request, reply) => {
    reply.header(
      'set-cookie',
      serializeCookie(SESSION_COOKIE, '', {
        path: ADMIN_PATHS.base,
        maxAgeSec: 0,
        secure: secure(request),
      }),
    );
    return reply.redirect(withNotice(ADMIN_PATHS.login, 'logged-out'), 303);
  });
}
