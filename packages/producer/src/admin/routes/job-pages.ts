import type { DrawingJobData } from '@atelier/shared';
import type { FastifyInstance } from 'fastify';
import { type AdminContext, pageContext } from '../admin-context.ts';
import { noticeFor } from '../notice.ts';
import { type DrawingSubmit, jobPage } from '../pages/job-page.ts';

/**
 * `GET /admin/jobs/:id`: the job's state in the HTTP contract's words (after a replay, say),
 * and for a drawing how its submit stands (taskId, a submit under way, unconfirmed submits).
 */
export function jobPages(scope: FastifyInstance, ctx: AdminContext): void {
  scope.get<{ Params: { id: string } }>('/jobs/:id', async (request, reply) => {
    const job = await ctx.options.producer.getJob(request.params.id);
    const submit = job.kind === 'drawing' ? await drawingSubmit(ctx, job.id) : undefined;
    const notice = noticeFor(request.query);
    return reply
      .type('text/html; charset=utf-8')
      .send(jobPage(pageContext(ctx, request, notice ? { notice } : {}), job, submit));
  });
}

/** What the drawing job's data says of its submit (undefined once retention removed it). */
async function drawingSubmit(ctx: AdminContext, id: string): Promise<DrawingSubmit | undefined> {
  const queue = ctx.queues.get('drawing');
  const stored = queue ? await ctx.guard.run(() => queue.getJob(id)) : undefined;
  const state = (stored?.data as DrawingJobData | undefined)?.state;
  if (!stored) return undefined;
  return {
    ...(state?.taskId !== undefined ? { taskId: state.taskId } : {}),
    ...(state?.submitIntentAt !== undefined ? { intentAt: state.submitIntentAt } : {}),
    unconfirmed: state?.unconfirmedSubmits ?? 0,
  };
}
