import type { FastifyInstance } from 'fastify';
import { ADMIN_PATHS, pathOf } from './admin-paths.ts';

/** No third-party requests, no inline scripts, no framing (bull-board's UI works within this). */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every dashboard answer; pages and API answers are never cached. */
export function installSecurityHeaders(scope: FastifyInstance): void {
  scope.addHook('onSend', async (request, reply, payload) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    if (!pathOf(request.url).startsWith(`${ADMIN_PATHS.queues}/static/`)) {
      reply.header('cache-control', 'no-store');
    }
    return payload;
  });
}
