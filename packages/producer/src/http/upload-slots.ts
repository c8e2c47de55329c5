import type { FastifyInstance, FastifyRequest } from 'fastify';
import { apiError } from './error-response.ts';

/** A body up to this size (by its Content-Length) is small: read without a slot. */
export const LARGE_BODY_BYTES = 1024 * 1024;
/** How long a refused upload is told to wait: about what reading a large batch takes. */
const RETRY_AFTER_MS = 5000;

/**
 * Bounds how many large request bodies the routes of `scope` read at once
 * (`ATELIER_MAX_CONCURRENT_BATCH_UPLOADS`): each one, streamed or parsed, costs memory and CPU
 * while it is read and validated. A large body (its Content-Length over `LARGE_BODY_BYTES`,
 * or none: streamed) takes a slot before it is read and gives it back when the answer is sent
 * or the client goes away; with none free it is refused at once, unread, with
 * `429 TOO_MANY_BATCH_UPLOADS` and `Retry-After`. Small bodies are never held up.
 */
export function limitUploads(scope: FastifyInstance, max: number): void {
  let inUse = 0;
  const holders = new WeakSet<FastifyRequest>();
  const give = (request: FastifyRequest) => {
    if (holders.delete(request)) inUse--;
  };

  scope.addHook('preParsing', async (request, _reply, payload) => {
    const length = request.headers['content-length'];
    const large = length === undefined || Number(length) > LARGE_BODY_BYTES;
    if (!large || request.method !== 'POST') return payload;
    if (inUse >= max) {
      throw apiError(
        'TOO_MANY_BATCH_UPLOADS',
        `${max} large batch bodies are being read already (ATELIER_MAX_CONCURRENT_BATCH_UPLOADS): send it again shortly`,
        { retryAfterMs: RETRY_AFTER_MS },
      );
    }
    inUse++;
    holders.add(request);
    return payload;
  });
  scope.addHook('onResponse', async (request) => give(request));
  scope.addHook('onRequestAbort', async (request) => give(request));
}
