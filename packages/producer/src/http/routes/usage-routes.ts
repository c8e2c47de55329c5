import { validate } from '@atelier/shared';
import type { FastifyInstance } from 'fastify';
import { producerFor } from '../request-caller.ts';
import type { RouteContext } from '../route-context.ts';

/**
 * `GET /v1/usage?from=YYYY-MM-DD&to=YYYY-MM-DD`: the caller's tenant's images and jobs per UTC
 * day (default: the last 30 days), with its quota; an admin key may name `tenant`.
 */
export function usageRoutes(app: FastifyInstance, { schemas }: RouteContext): void {
  app.get('/usage', async (request) => {
    const query = validate(schemas.usageQuery, request.query, 'query');
    return producerFor(request).usage(query);
  });
}
