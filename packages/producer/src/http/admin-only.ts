import type { FastifyRequest } from 'fastify';

/**
 * The guard of `/v1` routes for admin keys only (`GET /v1/stats`: figures across every
 * tenant's work). Today every API key is an admin key: `ATELIER_API_KEYS` names no tenants
 * yet. When tenants come (named keys, `ATELIER_ADMIN_KEYS`), THIS is where a tenant's key is
 * refused, so every admin route already sits behind it.
 */
export async function adminOnly(_request: FastifyRequest): Promise<void> {
  // Every authenticated key is an admin key (no tenant keys exist yet).
}
