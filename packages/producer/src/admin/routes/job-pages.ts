import type { FastifyInstance } from 'fastify';
import { type AdminContext, pageContext } from '../admin-context.ts';
import { noticeFor } from '../notice.ts';
import { jobPage } from '../pages/job-page.ts';

/** `GET /admin/jobs/:id`: the job's state in the HTTP contract's words (after a replay, say). */
export function jobPages(scope: FastifyInstance, ctx: AdminContext): void {
  scope.get<{ Params: { id: string } }>('/jobs/:id', async (request, reply) => {
    const job = await ctx.options.producer.getJob(request.params.id);
    const notice = noticeFor(request.query);
    return reply
      .type('text/html; charset=utf-8')
      .send(jobPage(pageContext(ctx, request, notice ? { notice } : {}), job));
  });
}
