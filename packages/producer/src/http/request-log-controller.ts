import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/**
 * Fastify's request log lines: arrival at `debug`; completion (method, route, status, time —
 * never headers, and the shared logger redacts `authorization` wherever it would appear) at
 * `info` for answers ≥ 400 and at `debug` for the rest. An enqueue API answers thousands of
 * requests a second; a success line each would cost more than the enqueue (redaction), and
 * request counts and latencies are in `/metrics` anyway. `LOG_LEVEL=debug` shows them all.
 */
export class RequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ method: request.method, url: request.url }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
      responseTimeMs: Math.round(reply.elapsedTime * 100) / 100,
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else if (reply.statusCode >= 400) reply.log.info(line, 'request completed');
    else reply.log.debug(line, 'request completed');
  }
}
