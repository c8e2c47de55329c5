import type { CmeOperationRequest, DrawingRequest } from '@atelier/shared';
import type { FastifyInstance } from 'fastify';
import { accepted, type RouteContext } from '../route-context.ts';

/** `POST /v1/drawings`, `POST /v1/cme/operations`: the library validates with the shared schemas. */
export function enqueueRoutes(app: FastifyInstance, { producer }: RouteContext): void {
  app.post('/drawings', async (request, reply) => {
    // Typed as a request, validated by the library (shared schema) before anything happens.
    const { id, created } = await producer.enqueueDrawing(request.body as DrawingRequest);
    return accepted(reply, `/v1/jobs/${id}`, created, { id });
  });

  app.post('/cme/operations', async (request, reply) => {
    const { id, created } = await producer.enqueueCmeOperation(request.body as CmeOperationRequest);
    return accepted(reply, `/v1/jobs/${id}`, created, { id });
  });
}
