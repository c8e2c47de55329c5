import { hasCode } from '@atelier/shared';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { RedisGuard } from '../lib/redis-guard.ts';
import type { AdminContext } from './admin-context.ts';
import { AdminCredentials } from './admin-credentials.ts';
import { type AdminOptions, resolveAdminOptions } from './admin-options.ts';
import { ADMIN_PATHS } from './admin-paths.ts';
import { AdminQueues } from './admin-queues.ts';
import { BatchGalleryReader } from './batch-gallery-reader.ts';
import { registerBullBoard } from './bull-board.ts';
import { loadDashboardAssets } from './dashboard-assets.ts';
import { dashboardOff } from './dashboard-off.ts';
import { LoginThrottle } from './login-throttle.ts';
import { OverviewReader } from './overview-reader.ts';
import { sendProblem } from './problem-reply.ts';
import { assetRoutes } from './routes/asset-routes.ts';
import { authRoutes } from './routes/auth-routes.ts';
import { batchPages } from './routes/batch-pages.ts';
import { deadLetterPages } from './routes/dead-letter-pages.ts';
import { jobPages } from './routes/job-pages.ts';
import { overviewRoutes } from './routes/overview-routes.ts';
import { queueActionRoutes } from './routes/queue-action-routes.ts';
import { statsRoutes } from './routes/stats-routes.ts';
import { installSecurityHeaders } from './security-headers.ts';
import { installSessionGuard } from './session-guard.ts';
import { SessionSigner } from './session-signer.ts';

const FORM_BODY_LIMIT = 64 * 1024;

/** Refusals of an action the state does not allow (the API's 409s). */
const CONFLICT_CODES = new Set([
  'REPLAY_CONFLICT',
  'BATCH_FINISHED',
  'BATCH_CANCELLED',
  'ALREADY_SUBMITTED',
  'ALREADY_FINISHED',
]);

/**
 * The `/admin` dashboard as a Fastify plugin (register it on the root instance; it adds its
 * routes under `/admin` in their own scope). With `ATELIER_ADMIN_USER`/`ATELIER_ADMIN_PASSWORD`
 * unset, `/admin` answers 404 saying the dashboard is off. Otherwise: a login page and a signed
 * session cookie, the overview (with charts of the time series), dead-letter pages with
 * replay/delete, queue resume/pause, batch pages (a thumbnail gallery; cancel, pause, resume),
 * and bull-board (read-only, secrets masked) under `/admin/queues`.
 */
export function adminPlugin(options: AdminOptions): FastifyPluginAsync {
  return async (app) => {
    const { user, password } = options.config.admin;
    if (user === undefined || password === undefined) {
      await app.register(async (scope) => dashboardOff(scope), { prefix: ADMIN_PATHS.base });
      return;
    }
    const o = resolveAdminOptions(options);
    const queues = new AdminQueues(o.redis, o.prefix, o.logger.child({ component: 'admin' }));
    app.addHook('onClose', async () => queues.close());
    const ctx: AdminContext = {
      options: o,
      credentials: new AdminCredentials(user, password),
      signer: await SessionSigner.fromCredentials(user, password.reveal()),
      throttle: new LoginThrottle(o.login),
      queues,
      overview: new OverviewReader({ queues, redis: o.redis, prefix: o.prefix }),
      gallery: new BatchGalleryReader({ redis: o.redis, prefix: o.prefix, producer: o.producer }),
      assets: loadDashboardAssets(),
      guard: new RedisGuard(o.redis),
      sessions: new WeakMap(),
    };
    await app.register(async (scope) => dashboard(scope, ctx), { prefix: ADMIN_PATHS.base });
  };
}

async function dashboard(scope: FastifyInstance, ctx: AdminContext): Promise<void> {
  scope.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    async (_request: unknown, body: string | Buffer) =>
      Object.fromEntries(new URLSearchParams(body.toString())),
  );
  installSecurityHeaders(scope);
  installSessionGuard(scope, ctx);
  scope.setErrorHandler((error, request, reply) => {
    const code = hasCode(error) ? error.code : undefined;
    if (code === 'NOT_FOUND') {
      return sendProblem(ctx, request, reply, 404, 'NOT_FOUND', (error as Error).message);
    }
    if (code !== undefined && CONFLICT_CODES.has(code)) {
      return sendProblem(ctx, request, reply, 409, code, (error as Error).message);
    }
    if (code === 'VALIDATION_FAILED') {
      return sendProblem(ctx, request, reply, 400, code, (error as Error).message);
    }
    if (code === 'REDIS_UNAVAILABLE') {
      return sendProblem(ctx, request, reply, 503, code, 'Redis is not reachable right now');
    }
    const status = (error as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendProblem(ctx, request, reply, status, 'BAD_REQUEST', (error as Error).message);
    }
    request.log.error({ err: error }, 'dashboard request failed');
    return sendProblem(ctx, request, reply, 500, 'INTERNAL', 'internal error (see the API log)');
  });
  scope.setNotFoundHandler((request, reply) =>
    sendProblem(ctx, request, reply, 404, 'NOT_FOUND', 'no such dashboard page'),
  );
  authRoutes(scope, ctx);
  overviewRoutes(scope, ctx);
  deadLetterPages(scope, ctx);
  queueActionRoutes(scope, ctx);
  jobPages(scope, ctx);
  batchPages(scope, ctx);
  assetRoutes(scope, ctx);
  statsRoutes(scope, ctx);
  await registerBullBoard(scope, ctx.queues.all(), ADMIN_PATHS.queues, {
    simulator: ctx.options.simulator,
  });
}
