import type { FastifyInstance } from 'fastify';
import { ADMIN_PATHS, pathOf } from './admin-paths.ts';

/**
 * No third-party requests, no inline scripts, no framing (bull-board's UI works within this).
 * `imageOrigins`: origins a page may show images from (the batch gallery's provider URLs).
 */
export function contentSecurityPolicy(imageOrigins: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    ["img-src 'self' data:", ...imageOrigins].join(' '),
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const CSP = contentSecurityPolicy();

/**
 * Paths whose answers may be cached: bull-board's assets, archived images (never change), the
 * dashboard's own scripts and styles (versioned URLs: `?v=<hash>`).
 */
const CACHEABLE = [
  `${ADMIN_PATHS.queues}/static/`,
  `${ADMIN_PATHS.images}/`,
  `${ADMIN_PATHS.assets}/`,
];

/**
 * Headers on every dashboard answer (a page that set its own policy keeps it); pages and API
 * answers are never cached.
 */
export function installSecurityHeaders(scope: FastifyInstance): void {
  scope.addHook('onSend', async (request, reply, payload) => {
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', CSP);
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    const path = pathOf(request.url);
    if (!CACHEABLE.some((prefix) => path.startsWith(prefix))) {
      reply.header('cache-control', 'no-store');
    }
    return payload;
  });
}
