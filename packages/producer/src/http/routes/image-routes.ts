import { imageKeyContentType, isImageKey } from '@atelier/shared';
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../lib/errors/not-found-error.ts';
import type { RouteContext } from '../route-context.ts';

/** An archived image never changes under its key: caches may keep it for a year. */
const CACHE_CONTROL = 'private, max-age=31536000, immutable';

/**
 * `GET /v1/images/<jobId>/<n>.<ext>`: an archived image, streamed from the image store. Only
 * image keys are looked up (so nothing outside the archive can be named); anything else, and
 * a key the store does not hold, is 404.
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
    const found = contentType === undefined ? undefined : await images.get(key);
    if (found === undefined || contentType === undefined) throw new NotFoundError('image', key);
    return reply
      .header('content-type', contentType)
      .header('content-length', found.bytes)
      .header('cache-control', CACHE_CONTROL)
      .header('x-content-type-options', 'nosniff')
      .send(found.body);
  });
}
