import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AdminContext, pageContext } from './admin-context.ts';
import { messagePage } from './pages/message-page.ts';
import { wantsHtml } from './wants-html.ts';

/**
 * Answers a refused or failed dashboard request: a page for browsers, and for scripts the
 * API's error shape `{error: {code, message}}`.
 */
export function sendProblem(
  ctx: AdminContext | undefined,
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
): FastifyReply {
  reply.code(status);
  if (wantsHtml(request)) {
    const page = ctx
      ? messagePage(pageContext(ctx, request), titleOf(status), message)
      : messagePage({ simulator: false, now: Date.now() }, titleOf(status), message);
    return reply.type('text/html; charset=utf-8').send(page);
  }
  return reply.send({ error: { code, message } });
}

function titleOf(status: number): string {
  if (status === 401) return 'Log in first';
  if (status === 403) return 'Refused';
  if (status === 404) return 'Not found';
  if (status === 429) return 'Too many attempts';
  if (status >= 500) return 'Something went wrong';
  return 'Cannot do that';
}
