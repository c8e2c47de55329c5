import type { FastifyRequest } from 'fastify';
import { ADMIN_PATHS, pathOf } from './admin-paths.ts';

/**
 * Whether a dashboard request comes from a person's browser page (answer with pages and
 * redirects) rather than a script (answer with JSON and status codes): bull-board's API and
 * static files, archived images, and requests that ask for JSON, get JSON.
 */
export function wantsHtml(request: FastifyRequest): boolean {
  const path = pathOf(request.url);
  if (path.startsWith(`${ADMIN_PATHS.queues}/api/`)) return false;
  if (path.startsWith(`${ADMIN_PATHS.queues}/static/`)) return false;
  if (path.startsWith(`${ADMIN_PATHS.images}/`)) return false;
  const accept = request.headers.accept;
  if (!accept) return true;
  if (accept.includes('text/html')) return true;
  return !accept.includes('application/json');
}
