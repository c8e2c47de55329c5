import type { FastifyInstance } from 'fastify';
import type { StatsQuery } from '../../lib/stats-query.ts';
import { adminOnly } from '../admin-only.ts';
import type { RouteContext } from '../route-context.ts';

/** `GET /v1/stats?from&to&step`: Atelier's time series as JSON (admin keys). */
export function statsRoutes(app: FastifyInstance, { producer }: RouteContext): void {
  app.get('/stats', { preHandler: adminOnly }, async (request) =>
    producer.timeSeries(request.query as StatsQuery),
  );
}
