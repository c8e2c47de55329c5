import type { FastifyRequest } from 'fastify';
import type { RedisGuard } from '../lib/redis-guard.ts';
import type { AdminCredentials } from './admin-credentials.ts';
import type { ResolvedAdminOptions } from './admin-options.ts';
import type { AdminQueues } from './admin-queues.ts';
import type { BatchGalleryReader } from './batch-gallery-reader.ts';
import type { DashboardAsset } from './dashboard-assets.ts';
import type { LoginThrottle } from './login-throttle.ts';
import type { OverviewReader } from './overview-reader.ts';
import type { PageContext } from './pages/page-context.ts';
import type { AdminSession, SessionSigner } from './session-signer.ts';

/** What the dashboard's routes share (one per registered plugin; nothing module-level). */
export interface AdminContext {
  readonly options: ResolvedAdminOptions;
  readonly credentials: AdminCredentials;
  readonly signer: SessionSigner;
  readonly throttle: LoginThrottle;
  readonly queues: AdminQueues;
  readonly overview: OverviewReader;
  readonly gallery: BatchGalleryReader;
  /** Scripts and styles the dashboard serves itself, by file name. */
  readonly assets: ReadonlyMap<string, DashboardAsset>;
  /** Redis reads and actions of the dashboard's own (not the producer's): fail fast, 503. */
  readonly guard: RedisGuard;
  /** The session of each authenticated request (set by the session guard). */
  readonly sessions: WeakMap<FastifyRequest, AdminSession>;
}

/** The page context of a request: its operator and CSRF token when logged in. */
export function pageContext(
  ctx: AdminContext,
  request: FastifyRequest,
  extra: Partial<PageContext> = {},
): PageContext {
  const session = ctx.sessions.get(request);
  return {
    simulator: ctx.options.simulator,
    now: ctx.options.now(),
    ...(session ? { user: session.user, csrf: ctx.signer.csrfToken(session) } : {}),
    ...extra,
  };
}
