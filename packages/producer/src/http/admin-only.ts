import type { FastifyRequest } from 'fastify';
import { ForbiddenError } from '../lib/errors/forbidden-error.ts';
import { callerOf } from './request-caller.ts';

/**
 * The guard of `/v1` routes for admin keys only (`ATELIER_ADMIN_KEYS`): figures across every
 * tenant's work (`GET /v1/stats`). A tenant's key gets `403 FORBIDDEN` naming the variable.
 */
export async function adminOnly(request: FastifyRequest): Promise<void> {
  if (callerOf(request)?.admin) return;
  throw new ForbiddenError(
    "this route is for admin keys (ATELIER_ADMIN_KEYS): it reads every tenant's work",
  );
}
