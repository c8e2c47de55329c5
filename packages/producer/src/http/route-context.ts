import type { AtelierConfig, Logger } from '@atelier/shared';
import type { ImageStore } from '@atelier/store';
import type { FastifyReply } from 'fastify';
import type { Producer } from '../lib/producer.ts';
import type { ApiMetrics } from './api-metrics.ts';
import type { ApiSchemas } from './api-schemas.ts';

/** What route handlers need: the library, the config, the API schemas, metrics, the image archive. */
export interface RouteContext {
  readonly producer: Producer;
  /** The archive `GET /v1/images/*` reads (undefined: `ATELIER_IMAGE_STORE=none`). */
  readonly images: ImageStore | undefined;
  readonly config: AtelierConfig;
  readonly schemas: ApiSchemas;
  readonly metrics: ApiMetrics;
  readonly logger: Logger;
}

/**
 * `202 Accepted` for something queued: `Location` names where to follow it, and a request
 * whose idempotency key matched existing work says so with `Idempotent-Replayed: true`.
 */
export function accepted<T>(reply: FastifyReply, location: string, created: boolean, body: T): T {
  reply.code(202).header('location', location);
  if (!created) reply.header('idempotent-replayed', 'true');
  return body;
}
