import { cmeOperationEnvelopeSchema } from '@atelier/shared';
import { z } from 'zod';
import type { ApiSchemas } from './api-schemas.ts';
import { ERROR_STATUS } from './error-response.ts';

type Schema = Record<string, unknown>;

function schema(zodSchema: z.ZodType, io: 'input' | 'output' = 'output'): Schema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(zodSchema, { io, unrepresentable: 'any' });
  return rest;
}

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the same zod schemas the handlers
 * and the library validate with (request bodies in their input form, defaults included).
 */
export function openApiDocument(s: ApiSchemas, version: string): Schema {
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const json = (body: Schema) => ({ content: { 'application/json': { schema: body } } });
  const ok = (description: string, body?: Schema) =>
    body ? { description, ...json(body) } : { description };
  const errors = (...codes: Array<keyof typeof ERROR_STATUS>) => {
    const out: Record<string, Schema> = {};
    const always = ['UNAUTHORIZED', 'RATE_LIMITED', 'REDIS_UNAVAILABLE', 'SHUTTING_DOWN'] as const;
    for (const code of [...always, ...codes]) {
      const status = String(ERROR_STATUS[code]);
      const previous = out[status]?.description;
      out[status] = {
        description: previous ? `${previous}, ${code}` : code,
        ...json(ref('Error')),
      };
    }
    return out;
  };
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
  const query = (name: string, description: string, type = 'string') => ({
    name,
    in: 'query',
    required: false,
    description,
    schema: { type },
  });
  const filterParams = [
    query('queue', 'drawing | cme'),
    query('code', 'provider or Atelier code, e.g. POLL_TIMEOUT'),
    query('batchId', 'entries of one batch'),
    query('since', 'failedAt ≥ this (epoch ms or ISO-8601)'),
    query('until', 'failedAt ≤ this (epoch ms or ISO-8601)'),
  ];
  const secured = { security: [{ bearer: [] }] };
  /** Any request that arrives while the server closes. */
  const closing = { 503: { description: 'SHUTTING_DOWN', ...json(ref('Error')) } };

  return {
    openapi: '3.1.0',
    info: {
      title: 'Atelier API',
      version,
      description:
        'Enqueue AI drawings and Tencent CME material operations, follow jobs and batches, repair dead letters. ' +
        'Errors are {error: {code, message, details?}} with a stable code. A repeated idempotencyKey answers ' +
        '202 with the same id and the header Idempotent-Replayed: true.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        DrawingRequest: schema(s.drawingRequest, 'input'),
        CmeOperationRequest: schema(cmeOperationEnvelopeSchema, 'input'),
        BatchRequest: schema(s.batchBodyDoc, 'input'),
        BatchItem: schema(s.batchItem, 'input'),
        Accepted: schema(s.id),
        JobStatus: schema(s.jobStatus),
        BatchCreated: schema(s.batchCreated),
        Batch: schema(s.batchInfo),
        BatchResultLine: schema(s.batchResultLine),
        DeadLetter: schema(s.deadLetter),
        DeadLetterPage: schema(s.deadLetterPage),
        DeadLetterFilter: schema(s.deadLetterBulkBody, 'input'),
        Error: schema(s.error),
      },
    },
    paths: {
      '/v1/drawings': {
        post: {
          ...secured,
          summary: 'Enqueue a drawing',
          requestBody: { required: true, ...json(ref('DrawingRequest')) },
          responses: {
            202: ok('queued (or already known by its idempotencyKey)', ref('Accepted')),
            ...errors(
              'VALIDATION_FAILED',
              'MALFORMED_JSON',
              'PAYLOAD_TOO_LARGE',
              'UNSUPPORTED_MEDIA_TYPE',
              'CALLBACKS_DISABLED',
              'CALLBACK_URL_REFUSED',
            ),
          },
        },
      },
      '/v1/cme/operations': {
        post: {
          ...secured,
          summary: 'Enqueue a CME material operation (params are checked against the action)',
          requestBody: { required: true, ...json(ref('CmeOperationRequest')) },
          responses: {
            202: ok('queued', ref('Accepted')),
            ...errors(
              'VALIDATION_FAILED',
              'MALFORMED_JSON',
              'PAYLOAD_TOO_LARGE',
              'UNSUPPORTED_MEDIA_TYPE',
              'CALLBACKS_DISABLED',
              'CALLBACK_URL_REFUSED',
            ),
          },
        },
      },
      '/v1/jobs/{id}': {
        get: {
          ...secured,
          summary: 'Status of a job (queued, running, polling, retrying, completed, dead)',
          parameters: [idParam],
          responses: { 200: ok('the job', ref('JobStatus')), ...errors('NOT_FOUND') },
        },
      },
      '/v1/batches': {
        post: {
          ...secured,
          summary:
            'Create a batch of drawings (JSON body, or NDJSON with options in the query string)',
          parameters: [
            query('callbackUrl', 'NDJSON only: receives batch.completed'),
            query('idempotencyKey', 'NDJSON only: the same key returns the same batch'),
            query(
              'priority',
              'NDJSON only: priority of the items (1..1000, default 500)',
              'integer',
            ),
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: ref('BatchRequest') },
              'application/x-ndjson': {
                schema: { type: 'string', description: 'one BatchItem JSON object per line' },
              },
            },
          },
          responses: {
            202: ok('every item validated and queued', ref('BatchCreated')),
            ...errors(
              'VALIDATION_FAILED',
              'MALFORMED_JSON',
              'PAYLOAD_TOO_LARGE',
              'UNSUPPORTED_MEDIA_TYPE',
              'CALLBACKS_DISABLED',
              'CALLBACK_URL_REFUSED',
              'IDEMPOTENCY_CONFLICT',
            ),
          },
        },
      },
      '/v1/batches/{id}': {
        get: {
          ...secured,
          summary: 'Progress of a batch',
          parameters: [idParam],
          responses: { 200: ok('the batch', ref('Batch')), ...errors('NOT_FOUND') },
        },
      },
      '/v1/batches/{id}/results': {
        get: {
          ...secured,
          summary: 'One NDJSON line per item, in input order (pending items included)',
          parameters: [idParam],
          responses: {
            200: {
              description: 'NDJSON stream of BatchResultLine',
              content: { 'application/x-ndjson': { schema: ref('BatchResultLine') } },
            },
            ...errors('NOT_FOUND'),
          },
        },
      },
      '/v1/dead-letters': {
        get: {
          ...secured,
          summary: 'Dead letters, newest first',
          parameters: [
            ...filterParams,
            query('offset', 'default 0', 'integer'),
            query('limit', '1..500, default 50', 'integer'),
          ],
          responses: { 200: ok('a page', ref('DeadLetterPage')), ...errors('VALIDATION_FAILED') },
        },
      },
      '/v1/dead-letters/{id}': {
        get: {
          ...secured,
          summary: 'One dead letter',
          parameters: [idParam],
          responses: { 200: ok('the entry', ref('DeadLetter')), ...errors('NOT_FOUND') },
        },
        delete: {
          ...secured,
          summary: 'Delete a dead letter (and its failed job); a batch item stays dead',
          parameters: [idParam],
          responses: { 204: ok('deleted'), ...errors('NOT_FOUND') },
        },
      },
      '/v1/dead-letters/{id}/replay': {
        post: {
          ...secured,
          summary: 'Run a dead letter again (a drawing with a taskId resumes polling)',
          parameters: [idParam],
          responses: {
            202: ok('queued again', ref('Accepted')),
            ...errors('NOT_FOUND', 'REPLAY_CONFLICT'),
          },
        },
      },
      '/v1/dead-letters/replay': {
        post: {
          ...secured,
          summary: 'Replay every dead letter matching a filter (empty filter: send all: true)',
          requestBody: { required: true, ...json(ref('DeadLetterFilter')) },
          responses: {
            202: ok('how many were replayed', {
              type: 'object',
              properties: { replayed: { type: 'integer' } },
            }),
            ...errors('VALIDATION_FAILED', 'MALFORMED_JSON'),
          },
        },
      },
      '/v1/dead-letters/purge': {
        post: {
          ...secured,
          summary: 'Delete every dead letter matching a filter (empty filter: send all: true)',
          requestBody: { required: true, ...json(ref('DeadLetterFilter')) },
          responses: {
            200: ok('how many were deleted', {
              type: 'object',
              properties: { purged: { type: 'integer' } },
            }),
            ...errors('VALIDATION_FAILED', 'MALFORMED_JSON'),
          },
        },
      },
      '/healthz': {
        get: { summary: 'The process is up', responses: { 200: ok('up'), ...closing } },
      },
      '/readyz': {
        get: {
          summary: 'Redis is reachable',
          responses: {
            200: ok('ready'),
            503: { description: 'REDIS_UNAVAILABLE, SHUTTING_DOWN', ...json(ref('Error')) },
          },
        },
      },
      '/metrics': {
        get: {
          summary:
            'Prometheus metrics (queue depth per state, open batches, dead letters by code, requests)',
          responses: {
            200: { description: 'text exposition format', content: { 'text/plain': {} } },
            ...closing,
          },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', responses: { 200: ok('OpenAPI 3.1'), ...closing } },
      },
    },
  };
}
