import type { FastifyInstance } from 'fastify';
import type { StatsQuery } from '../../lib/stats-query.ts';
import type { AdminContext } from '../admin-context.ts';

/** `GET /admin/stats?from&to&step`: the series of `GET /v1/stats`, for the overview's charts. */
export function statsRoutes(scope: FastifyInstance, ctx: AdminContext): void {
  scope.get('/stats', async (request) =>
    ctx.options.producer.timeSeries(request.query as StatsQuery),
  );
}
