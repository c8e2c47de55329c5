import { imageKeyContentType, isImageKey } from '@atelier/shared';
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../lib/errors/not-found-error.ts';
import { producerFor } from '../request-caller.ts';
import type { RouteContext } from '../route-context.ts';

/** An archived image never changes under its key: caches may keep it for a year. */
const CACHE_CONTROL = 'private, max-age=31536000, immutable';

/**
 * `GET /v1/images/<jobId>/<n>.<ext>`: an archived image, streamed from the image store. Only
 * image keys are looked up (so nothing outside the archive can be named); anything else, and
 * a key the store does not hold, is 404. An image belongs to its job's tenant (the key starts
 * with the job id): another tenant's is 404 too.
 */
export function imageRoutes(app: FastifyInstance, { images }: RouteContext): void {
  app.get<{ Params: { '*': string } }>('/images/*', async (request, reply) => {
    const key = request.params['*'];
    if (images === undefined) {
      throw new NotFoundError(
        'image',
        key,
        'images are not archived here (ATELIER_IMAGE_STORE=none)',
      );
    }
    const contentType = isImageKey(key) ? imageKeyContentType(key) : undefined;
    const jobId = key.slice(0, key.indexOf('/'));
    const visible = contentType !== undefined && producerFor(request).sees(jobId);
    const found = visible ? await images.get(key) : undefined;
    if (found === undefined || contentType === undefined) throw new NotFoundError('image', key);
    return reply
      .header('content-type', contentType)
      .header('content-length', found.bytes)
      .header('cache-control', CACHE_CONTROL)
      .header('x-content-type-options', 'nosniff')
      .send(found.body);
  });
}
