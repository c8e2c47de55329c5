import type { FastifyInstance } from 'fastify';
import { openApiDocument } from '../openapi-document.ts';
import type { RouteContext } from '../route-context.ts';

const VERSION = '1.0.0';

/** Unauthenticated: `/healthz`, `/readyz`, `/metrics`, `/openapi.json`. */
export function opsRoutes(
  app: FastifyInstance,
  { producer, schemas, metrics }: RouteContext,
): void {
  const document = openApiDocument(schemas, VERSION);

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async () => {
    await producer.ping();
    return { status: 'ready' };
  });

  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).send(body);
  });

  app.get('/openapi.json', async () => document);
}
