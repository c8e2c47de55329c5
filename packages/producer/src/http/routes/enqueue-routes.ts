import type { CmeOperationRequest, DrawingRequest } from '@atelier/shared';
import type { FastifyInstance } from 'fastify';
import { producerFor } from '../request-caller.ts';
import { accepted, type RouteContext } from '../route-context.ts';

/**
 * `POST /v1/drawings`, `POST /v1/cme/operations`: the library validates with the shared schemas
 * and enqueues for the caller's tenant (its quota, its turn, its idempotency keys).
 */
export function enqueueRoutes(app: FastifyInstance, { metrics }: RouteContext): void {
  app.post('/drawings', async (request, reply) => {
    // Typed as a request, validated by the library (shared schema) before anything happens.
    const producer = producerFor(request);
    const { id, created, images } = await producer.enqueueDrawing(request.body as DrawingRequest);
    metrics.countImages(producer.tenant, images);
    return accepted(reply, `/v1/jobs/${id}`, created, { id });
  });

  app.post('/cme/operations', async (request, reply) => {
    const producer = producerFor(request);
    const { id, created } = await producer.enqueueCmeOperation(request.body as CmeOperationRequest);
    return accepted(reply, `/v1/jobs/${id}`, created, { id });
  });
}
