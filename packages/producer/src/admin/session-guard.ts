import type { FastifyInstance } from 'fastify';
import type { AdminContext } from './admin-context.ts';
import { ADMIN_PATHS, pathOf, SESSION_COOKIE, safeNext } from './admin-paths.ts';
import { parseCookies } from './cookies.ts';
import { sendProblem } from './problem-reply.ts';
import { wantsHtml } from './wants-html.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function isLoginPath(path: string): boolean {
  return path === ADMIN_PATHS.login || path === `${ADMIN_PATHS.login}/`;
}

/**
 * Every dashboard request but the login form needs a valid session cookie: browsers are sent
 * to the login page (and back afterwards), scripts and bull-board's API get 401. Every
 * state-changing request also needs the session's CSRF token (`_csrf` form field or
 * `X-CSRF-Token` header), checked after the body is parsed — never for strangers, whose
 * bodies are not even read.
 */
export function installSessionGuard(scope: FastifyInstance, ctx: AdminContext): void {
  scope.addHook('onRequest', async (request, reply) => {
    if (isLoginPath(pathOf(request.url))) return;
    const cookie = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
    const session = ctx.signer.verify(cookie, ctx.credentials.user, ctx.options.now());
    if (session) {
      ctx.sessions.set(request, session);
      return;
    }
    if (wantsHtml(request)) {
      const get = SAFE_METHODS.has(request.method);
      const next = safeNext(get ? request.url : ADMIN_PATHS.base);
      return reply.redirect(
        `${ADMIN_PATHS.login}?next=${encodeURIComponent(next)}`,
        get ? 302 : 303,
      );
    }
    return sendProblem(
      undefined,
      request,
      reply,
      401,
      'UNAUTHORIZED',
      `log in to the dashboard first: ${ADMIN_PATHS.login}`,
    );
  });

  scope.addHook('preHandler', async (request, reply) => {
    if (SAFE_METHODS.has(request.method) || isLoginPath(pathOf(request.url))) return;
    const session = ctx.sessions.get(request);
    const body = request.body;
    const fromForm =
      body !== null && typeof body === 'object'
        ? (body as Record<string, unknown>)._csrf
        : undefined;
    const token = fromForm ?? request.headers['x-csrf-token'];
    if (session && ctx.signer.checkCsrf(session, token)) return;
    return sendProblem(
      ctx,
      request,
      reply,
      403,
      'CSRF_REJECTED',
      'this form is stale or did not come from this dashboard: reload the page and try again',
    );
  });
}
