import { redactCallbackUrl } from '@atelier/shared';
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
    request.log.debug({ method: request.method, url: loggedUrl(request.url) }, 'incoming request');
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

/**
 * A request URL as it may be logged: a `callbackUrl` in the query string (an NDJSON batch's)
 * keeps only what `redactCallbackUrl` shows, since its own query may carry a token.
 */
function loggedUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const query = new URLSearchParams(url.slice(at + 1));
  if (!query.has('callbackUrl')) return url;
  const shown = query.getAll('callbackUrl').map(redactCallbackUrl);
  query.delete('callbackUrl');
  for (const value of shown) query.append('callbackUrl', value);
  return `${url.slice(0, at)}?${query.toString()}`;
}
