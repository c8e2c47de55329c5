import type { FastifyInstance } from 'fastify';
import { producerFor } from '../request-caller.ts';
import type { RouteContext } from '../route-context.ts';

/**
 * `GET /v1/jobs/:id`, `POST /v1/jobs/:id/cancel` (202 with the job's status, or 409): the
 * caller's tenant's jobs (an admin key's: any).
 */
export function jobRoutes(app: FastifyInstance, _ctx: RouteContext): void {
  app.get<{ Params: { id: string } }>('/jobs/:id', async (request) =>
    producerFor(request).getJob(request.params.id),
  );
  app.post<{ Params: { id: string } }>('/jobs/:id/cancel', async (request, reply) => {
    const status = await producerFor(request).cancelJob(request.params.id);
    return reply.code(202).send(status);
  });
}
