import type { FastifyInstance } from 'fastify';

export const DASHBOARD_OFF_MESSAGE =
  'the dashboard is off: set ATELIER_ADMIN_USER and ATELIER_ADMIN_PASSWORD to turn it on';

/** `/admin` and everything under it when no dashboard login is configured: 404, saying why. */
export function dashboardOff(scope: FastifyInstance): void {
  const answer = async (_request: unknown, reply: import('fastify').FastifyReply) =>
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: DASHBOARD_OFF_MESSAGE } });
  scope.all('/', answer);
  scope.all('/*', answer);
}
