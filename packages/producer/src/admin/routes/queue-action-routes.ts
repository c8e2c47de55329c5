import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin-context.ts';
import { ADMIN_PATHS } from '../admin-paths.ts';
import { withNotice } from '../notice.ts';
import { sendProblem } from '../problem-reply.ts';

type NameParams = { Params: { name: string } };

/**
 * `POST /admin/queue/:name/resume` (also clears a halt: the operator fixed what made Atelier
 * pause it) and `POST /admin/queue/:name/pause`.
 */
export function queueActionRoutes(scope: FastifyInstance, ctx: AdminContext): void {
  const path = ADMIN_PATHS.queueActions.slice(ADMIN_PATHS.base.length);

  scope.post<NameParams>(`${path}/:name/resume`, async (request, reply) => {
    const { name } = request.params;
    if (!ctx.queues.get(name)) {
      return sendProblem(ctx, request, reply, 404, 'NOT_FOUND', `no queue named "${name}"`);
    }
    await ctx.guard.run(() => ctx.queues.resume(name));
    ctx.options.logger.warn({ queue: name }, 'dashboard: queue resumed');
    return reply.redirect(withNotice(ADMIN_PATHS.base, 'resumed', { queue: name }), 303);
  });

  scope.post<NameParams>(`${path}/:name/pause`, async (request, reply) => {
    const { name } = request.params;
    if (!ctx.queues.get(name)) {
      return sendProblem(ctx, request, reply, 404, 'NOT_FOUND', `no queue named "${name}"`);
    }
    await ctx.guard.run(() => ctx.queues.pause(name));
    ctx.options.logger.warn({ queue: name }, 'dashboard: queue paused');
    return reply.redirect(withNotice(ADMIN_PATHS.base, 'paused', { queue: name }), 303);
  });
}
