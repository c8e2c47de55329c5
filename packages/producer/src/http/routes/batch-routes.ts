import { Readable } from 'node:stream';
import { ValidationError, validate } from '@atelier/shared';
import type { BatchItemResult } from '@atelier/store';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { BatchOptions } from '../../lib/batch-enqueuer.ts';
import { JsonBatchBody } from '../../lib/json-batch-body.ts';
import { NdjsonItems } from '../../lib/ndjson-items.ts';
import type { Producer } from '../../lib/producer.ts';
import { apiError } from '../error-response.ts';
import { producerFor } from '../request-caller.ts';
import { accepted, type RouteContext } from '../route-context.ts';
import { limitUploads } from '../upload-slots.ts';

const NDJSON_TYPES = ['application/x-ndjson', 'application/jsonl'];
const LINES_PER_CHUNK = 500;

/**
 * `POST /v1/batches` (JSON `{items, …}`, options before or after `items`, or NDJSON: one drawing
 * request per line, batch options in the query string — both read as they stream in),
 * `GET /v1/batches/:id`, `POST /v1/batches/:id/cancel|pause|resume` (202 with the batch),
 * `GET /v1/batches/:id/results` (NDJSON stream).
 */
export async function batchRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { schemas, metrics } = ctx;
  const bodyLimit = ctx.config.api.bodyLimitBytes;

  // Encapsulated: in this scope NDJSON and JSON bodies are passed on as the raw stream, read
  // as they arrive (a 100,000-item body is never held whole, as text or parsed).
  const raw = (
    request: FastifyRequest,
    payload: Readable,
    done: (err: Error | null, body?: unknown) => void,
  ) => {
    const length = Number(request.headers['content-length'] ?? 0);
    if (length > bodyLimit) {
      done(apiError('PAYLOAD_TOO_LARGE', `the request body is larger than ${bodyLimit} bytes`));
      return;
    }
    done(null, payload);
  };
  limitUploads(app, ctx.config.api.maxConcurrentBatchUploads);
  app.addContentTypeParser(NDJSON_TYPES, raw);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', raw);

  app.post('/batches', async (request, reply) => {
    const producer = producerFor(request);
    let created: { id: string; total: number; created: boolean; images: number };
    const type = String(request.headers['content-type'] ?? '');
    const ndjson = NDJSON_TYPES.some((t) => type.toLowerCase().startsWith(t));
    if (!(request.body instanceof Readable)) {
      // No body at all (a body always comes through one of the parsers above).
      throw new ValidationError([
        { field: '(body)', rule: 'required', message: '(body) is required' },
      ]);
    }
    if (ndjson) {
      const query = validate(schemas.batchQuery, request.query, 'query');
      const items = new NdjsonItems(request.body, bodyLimit);
      const { priority, ...rest } = query;
      const options: BatchOptions = {
        ...rest,
        itemLabel: (index) => `line ${items.lineOf(index) ?? '?'}`,
      };
      // A malformed number is left as text for the library's validation to name.
      if (priority !== undefined) {
        options.priority = (/^\d+$/.test(priority) ? Number(priority) : priority) as number;
      }
      created = await producer.createBatch(items, options);
    } else {
      // Options of a JSON batch are in its body; a query string would be silently ignored.
      const stray = Object.keys((request.query ?? {}) as Record<string, unknown>);
      if (stray.length > 0) {
        throw new ValidationError(
          stray.map((name) => ({
            field: `query.${name}`,
            rule: 'unknownField',
            message: `query.${name}: a JSON batch takes its options in the body (the query string is read for NDJSON only)`,
          })),
        );
      }
      const body = new JsonBatchBody(request.body, bodyLimit);
      // The options may follow the items: checked once the items were read. Unknown fields are
      // refused here, option types by the library against the shared schema.
      created = await producer.createBatch(
        body,
        () => validate(schemas.batchOptionsBody, body.options()) as BatchOptions,
      );
    }
    const { id, total } = created;
    metrics.countImages(producer.tenant, created.images);
    return accepted(reply, `/v1/batches/${id}`, created.created, { id, total });
  });

  app.get<{ Params: { id: string } }>('/batches/:id', async (request) => {
    const { callbackUrl: _private, ...info } = await producerFor(request).getBatch(
      request.params.id,
    );
    return info;
  });

  // The caller's tenant's batches (an admin key's: any); another's is 404.
  const steer = {
    cancel: (p: Producer, id: string) => p.cancelBatch(id),
    pause: (p: Producer, id: string) => p.pauseBatch(id),
    resume: (p: Producer, id: string) => p.resumeBatch(id),
  };
  for (const [action, run] of Object.entries(steer)) {
    app.post<{ Params: { id: string } }>(`/batches/:id/${action}`, async (request, reply) => {
      const { callbackUrl: _private, ...info } = await run(producerFor(request), request.params.id);
      return reply.code(202).send(info);
    });
  }

  app.get<{ Params: { id: string } }>('/batches/:id/results', async (request, reply) => {
    const { id } = request.params;
    const producer = producerFor(request);
    await producer.getBatch(id);
    const stream = Readable.from(ndjsonChunks(producer.batchResults(id)));
    return reply.type('application/x-ndjson; charset=utf-8').send(stream);
  });
}

/** Result lines joined a few hundred at a time (never one string for the whole batch). */
async function* ndjsonChunks(lines: AsyncIterable<BatchItemResult>): AsyncGenerator<string> {
  let chunk = '';
  let count = 0;
  for await (const line of lines) {
    chunk += `${JSON.stringify(line)}\n`;
    if (++count >= LINES_PER_CHUNK) {
      yield chunk;
      chunk = '';
      count = 0;
    }
  }
  if (chunk !== '') yield chunk;
}
