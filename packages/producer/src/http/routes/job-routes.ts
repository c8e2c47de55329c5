import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../route-context.ts';

/** `GET /v1/jobs/:id`, `POST /v1/jobs/:id/cancel` (202 with the job's status, or 409). */
export function jobRoutes(app: FastifyInstance, { producer }: RouteContext): void {
  app.get<{ Params: { id: string } }>('/jobs/:id', async (request) =>
    producer.getJob(request.params.id),
  );
  app.post<{ Params: { id: string } }>('/jobs/:id/cancel', async (request, reply) => {
    const status = await producer.cancelJob(request.params.id);
    return reply.code(202).send(status);
  });
}
