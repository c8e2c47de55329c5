import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin-context.ts';
import { ADMIN_PATHS } from '../admin-paths.ts';
import { withNotice } from '../notice.ts';
import { sendProblem } from '../problem-reply.ts';

type NameParams = { Params: { name: string } };

/** Each action, and what it is called once done (log line, notice). */
const ACTIONS = [
  { action: 'resume', done: 'resumed' },
  { action: 'pause', done: 'paused' },
] as const;

/**
 * `POST /admin/queue/:name/resume` (also clears a halt: the operator fixed what made Atelier
 * pause it) and `POST /admin/queue/:name/pause`.
 */
export function queueActionRoutes(scope: FastifyInstance, ctx: AdminContext): void {
  const path = ADMIN_PATHS.queueActions.slice(ADMIN_PATHS.base.length);

  for (const { action, done } of ACTIONS) {
    scope.post<NameParams>(`${path}/:name/${action}`, async (request, reply) => {
      const { name } = request.params;
      if (!ctx.queues.get(name)) {
        return sendProblem(ctx, request, reply, 404, 'NOT_FOUND', `no queue named "${name}"`);
      }
      await ctx.guard.run(() => ctx.queues[action](name));
      ctx.options.logger.warn({ queue: name }, `dashboard: queue ${done}`);
      return reply.redirect(withNotice(ADMIN_PATHS.base, done, { queue: name }), 303);
    });
  }
}
