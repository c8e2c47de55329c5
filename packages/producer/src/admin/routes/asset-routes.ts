import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin-context.ts';

/** `GET /admin/assets/:name`: uPlot and the chart script (versioned URLs, cached a year). */
export function assetRoutes(scope: FastifyInstance, ctx: AdminContext): void {
  scope.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
    const asset = ctx.assets.get(request.params.name);
    if (!asset) {
      throw Object.assign(new Error('no such dashboard file'), { code: 'NOT_FOUND' });
    }
    return reply
      .type(asset.contentType)
      .header('cache-control', 'private, max-age=31536000, immutable')
      .send(asset.body);
  });
}
