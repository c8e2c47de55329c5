import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../route-context.ts';

/** `GET /v1/jobs/:id`. */
export function jobRoutes(app: FastifyInstance, { producer }: RouteContext): void {
  app.get<{ Params: { id: string } }>('/jobs/:id', async (request) =>
    producer.getJob(request.params.id),
  );
}
