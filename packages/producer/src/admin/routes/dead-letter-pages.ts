import { configuredTenants } from '@atelier/shared';
import type { DeadLetterFilter } from '@atelier/store';
import type { FastifyInstance } from 'fastify';
import { type AdminContext, pageContext } from '../admin-context.ts';
import { ADMIN_PATHS } from '../admin-paths.ts';
import { noticeFor, withNotice } from '../notice.ts';
import { deadLetterPage } from '../pages/dead-letter-page.ts';
import { deadLettersPage } from '../pages/dead-letters-page.ts';
import { sendProblem } from '../problem-reply.ts';
import { tenantParam } from './overview-routes.ts';

type IdParams = { Params: { id: string } };
type ListQuery = { Querystring: Record<string, string | undefined> };

const PAGE_SIZE = 50;

/**
 * Dead-letter list and detail pages, and their actions — all through the producer library
 * (`replayDeadLetter`, `replayDeadLetters`, `deleteDeadLetter`), so replays reopen batch items
 * and resume drawings by their taskId exactly as the API's do.
 */
export function deadLetterPages(scope: FastifyInstance, ctx: AdminContext): void {
  const { producer } = ctx.options;

  scope.get<ListQuery>('/dead-letters', async (request, reply) => {
    const filter = filterFrom(request.query);
    const offset = Math.max(0, Math.floor(Number(request.query.offset ?? 0)) || 0);
    const page = await producer.listDeadLetters(filter, { offset, limit: PAGE_SIZE });
    const notice = noticeFor(request.query);
    const html = deadLettersPage(
      pageContext(ctx, request, {
        refreshSec: ctx.options.refreshSec,
        ...(notice ? { notice } : {}),
      }),
      page,
      filter,
      { offset, limit: PAGE_SIZE },
      configuredTenants(ctx.options.config),
    );
    return reply.type('text/html; charset=utf-8').send(html);
  });

  scope.get<IdParams>('/dead-letters/:id', async (request, reply) => {
    const entry = await producer.getDeadLetter(request.params.id);
    return reply
      .type('text/html; charset=utf-8')
      .send(deadLetterPage(pageContext(ctx, request), entry));
  });

  scope.post<IdParams>('/dead-letters/:id/replay', async (request, reply) => {
    const { id } = request.params;
    await producer.replayDeadLetter(id);
    ctx.options.logger.info({ jobId: id }, 'dashboard: dead letter replayed');
    return reply.redirect(
      withNotice(`${ADMIN_PATHS.jobs}/${encodeURIComponent(id)}`, 'replayed', { id }),
      303,
    );
  });

  scope.post<IdParams>('/dead-letters/:id/delete', async (request, reply) => {
    const { id } = request.params;
    await producer.deleteDeadLetter(id);
    ctx.options.logger.info({ jobId: id }, 'dashboard: dead letter deleted');
    return reply.redirect(withNotice(ADMIN_PATHS.deadLetters, 'deleted', { id }), 303);
  });

  scope.post<{ Body: Record<string, unknown> }>('/dead-letters/replay', async (request, reply) => {
    const code = request.body?.code;
    if (typeof code !== 'string' || code === '') {
      return sendProblem(ctx, request, reply, 400, 'BAD_REQUEST', 'name the code to replay');
    }
    const n = await producer.replayDeadLetters({ code });
    ctx.options.logger.info({ code, replayed: n }, 'dashboard: dead letters replayed by code');
    return reply.redirect(
      withNotice(ADMIN_PATHS.base, 'replayed-code', { n: String(n), code }),
      303,
    );
  });
}

function filterFrom(query: Record<string, string | undefined>): DeadLetterFilter {
  const filter: DeadLetterFilter = {};
  if (query.queue) filter.queue = query.queue;
  if (query.code) filter.code = query.code;
  if (query.batchId) filter.batchId = query.batchId;
  const tenant = tenantParam(query.tenant);
  if (tenant) filter.tenant = tenant;
  return filter;
}
