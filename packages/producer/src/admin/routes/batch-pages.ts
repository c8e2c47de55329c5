import { imageKeyContentType, isImageKey } from '@atelier/shared';
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../lib/errors/not-found-error.ts';
import { type AdminContext, pageContext } from '../admin-context.ts';
import { ADMIN_PATHS } from '../admin-paths.ts';
import type { GalleryPage } from '../batch-gallery-reader.ts';
import { noticeFor, withNotice } from '../notice.ts';
import { batchPage } from '../pages/batch-page.ts';
import { contentSecurityPolicy } from '../security-headers.ts';

type IdParams = { Params: { id: string } };

/** Each batch action: the producer call and the notice it leaves. */
const ACTIONS = [
  { action: 'cancel', notice: 'batch-cancelled' },
  { action: 'pause', notice: 'batch-paused' },
  { action: 'resume', notice: 'batch-resumed' },
] as const;

/** An archived image never changes under its key (as `GET /v1/images/*` says too). */
const IMAGE_CACHE_CONTROL = 'private, max-age=31536000, immutable';

/**
 * `GET /admin/batches/:id` (progress, actions and a page of the gallery: `?page=N`),
 * `POST /admin/batches/:id/cancel|pause|resume` (through the producer library, as the API's),
 * and `GET /admin/images/*`: archived images for the logged-in operator (the dashboard's
 * session, never an API key), the gallery's thumbnails.
 */
export function batchPages(scope: FastifyInstance, ctx: AdminContext): void {
  const { producer, logger } = ctx.options;

  scope.get<IdParams & { Querystring: { page?: string } }>(
    '/batches/:id',
    async (request, reply) => {
      const { id } = request.params;
      const page = Number(request.query.page ?? 1);
      const gallery = await ctx.guard.run(() => ctx.gallery.read(id, page));
      if (!gallery) throw new NotFoundError('batch', id);
      const notice = noticeFor(request.query);
      const html = batchPage(
        pageContext(ctx, request, notice ? { notice } : {}),
        gallery,
        ctx.options.refreshSec,
      );
      return reply
        .header('content-security-policy', contentSecurityPolicy(providerOrigins(gallery)))
        .type('text/html; charset=utf-8')
        .send(html);
    },
  );

  for (const { action, notice } of ACTIONS) {
    scope.post<IdParams>(`/batches/:id/${action}`, async (request, reply) => {
      const { id } = request.params;
      const batch =
        action === 'cancel'
          ? await producer.cancelBatch(id)
          : action === 'pause'
            ? await producer.pauseBatch(id)
            : await producer.resumeBatch(id);
      logger.warn({ batchId: id, state: batch.state }, `dashboard: batch ${action}`);
      const back = `${ADMIN_PATHS.batches}/${encodeURIComponent(id)}`;
      return reply.redirect(withNotice(back, notice, { id }), 303);
    });
  }

  scope.get<{ Params: { '*': string } }>('/images/*', async (request, reply) => {
    const key = request.params['*'];
    const images = ctx.options.images;
    const contentType = isImageKey(key) ? imageKeyContentType(key) : undefined;
    const found =
      images === undefined || contentType === undefined ? undefined : await images.get(key);
    if (found === undefined || contentType === undefined) throw new NotFoundError('image', key);
    return reply
      .header('content-type', contentType)
      .header('content-length', found.bytes)
      .header('cache-control', IMAGE_CACHE_CONTROL)
      .send(found.body);
  });
}

/** Origins of the provider images a gallery page shows (its policy allows just those). */
function providerOrigins(gallery: GalleryPage): string[] {
  const origins = new Set<string>();
  for (const item of gallery.items) {
    if (item.thumbnail?.from === 'provider') origins.add(new URL(item.thumbnail.src).origin);
  }
  return [...origins];
}
