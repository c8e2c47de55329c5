import { cmeOperationEnvelopeSchema } from '@atelier/shared';
import { z } from 'zod';
import type { ApiSchemas } from './api-schemas.ts';
import { type ApiErrorCode, ERROR_STATUS } from './error-response.ts';

type Schema = Record<string, unknown>;
type Responses = Record<number, Schema>;

/** Every `/v1` operation may answer these. */
const ALWAYS: readonly ApiErrorCode[] = [
  'UNAUTHORIZED',
  'RATE_LIMITED',
  'REDIS_UNAVAILABLE',
  'SHUTTING_DOWN',
];
/** What a request that enqueues may be refused with. */
const ENQUEUE_ERRORS: readonly ApiErrorCode[] = [
  'VALIDATION_FAILED',
  'MALFORMED_JSON',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'CALLBACKS_DISABLED',
  'CALLBACK_URL_REFUSED',
  'QUOTA_EXCEEDED',
];

function schema(zodSchema: z.ZodType, io: 'input' | 'output' = 'output'): Schema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(zodSchema, { io, unrepresentable: 'any' });
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (body: Schema) => ({ content: { 'application/json': { schema: body } } });
const ok = (description: string, body?: Schema) =>
  body ? { description, ...json(body) } : { description };
const jsonBody = (name: string) => ({ required: true, ...json(ref(name)) });
const query = (name: string, description: string, type = 'string') => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: { type },
});
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const imageKeyParam = {
  name: 'key',
  in: 'path',
  required: true,
  description: '<jobId>/<n>.<ext> as in result.archived[].key, its slash sent as it is',
  schema: { type: 'string', pattern: '^[A-Za-z0-9_~-][A-Za-z0-9_.~-]*/\\d+\\.(png|jpg|webp)$' },
};
const binary = { schema: { type: 'string', contentMediaType: 'application/octet-stream' } };
const count = (field: string) => ({ type: 'object', properties: { [field]: { type: 'integer' } } });

/** The error answers of a `/v1` operation, one per status, naming every code it stands for. */
function errors(codes: readonly ApiErrorCode[]): Responses {
  const out: Responses = {};
  for (const code of [...ALWAYS, ...codes]) {
    const status = ERROR_STATUS[code];
    const previous = out[status]?.description;
    out[status] = { description: previous ? `${previous}, ${code}` : code, ...json(ref('Error')) };
  }
  return out;
}

/** A `/v1` operation (bearer key): its success answers plus its and every operation's errors. */
function v1(
  summary: string,
  request: { parameters?: Schema[]; requestBody?: Schema },
  success: Responses,
  codes: readonly ApiErrorCode[],
): Schema {
  return {
    security: [{ bearer: [] }],
    summary,
    ...request,
    responses: { ...success, ...errors(codes) },
  };
}

/** What a `503` of a request that enqueues may add: the id to look up. */
const OUTCOME_UNKNOWN =
  '; REDIS_UNAVAILABLE with details {outcome: "unknown", id} when the write was sent but not ' +
  'confirmed (it may still land): retry with the same idempotencyKey, or without one look the ' +
  'id up (GET /v1/jobs/{id}, /v1/batches/{id}) before sending it again';

/** An operation that enqueues: its `503` describes an unknown outcome (`OutcomeUnknown`). */
function enqueuing(operation: Schema): Schema {
  const responses = operation.responses as Responses;
  const unavailable = responses[503] as Schema;
  responses[503] = {
    ...unavailable,
    description: `${unavailable.description}${OUTCOME_UNKNOWN}`,
    content: {
      'application/json': {
        schema: { oneOf: [ref('Error'), ref('OutcomeUnknownError')] },
      },
    },
  };
  return operation;
}

/** What a `429` of a request that enqueues may add: its tenant's quota. */
const QUOTA =
  '; QUOTA_EXCEEDED (details {limit, used, requested, resetAt}, Retry-After until the next UTC ' +
  'midnight) when the request would take its tenant past its images per day: nothing was queued';

/** An operation that enqueues: its `429` describes a refused quota (`QuotaExceededError`). */
function quotaLimited(operation: Schema): Schema {
  const responses = operation.responses as Responses;
  const limited = responses[429] as Schema;
  responses[429] = {
    ...limited,
    description: `${limited.description}${QUOTA}`,
    content: {
      'application/json': { schema: { oneOf: [ref('Error'), ref('QuotaExceededError')] } },
    },
  };
  return operation;
}

/** Enqueueing one job: the request as a JSON body, `202` with the job's id. */
function enqueue(summary: string, body: string, description: string): Schema {
  const success = { 202: ok(description, ref('Accepted')) };
  return quotaLimited(
    enqueuing(v1(summary, { requestBody: jsonBody(body) }, success, ENQUEUE_ERRORS)),
  );
}

/** A `/v1/…/{id}` operation: unknown ids answer `NOT_FOUND`. */
function byId(summary: string, success: Responses, ...codes: ApiErrorCode[]): Schema {
  return v1(summary, { parameters: [idParam] }, success, ['NOT_FOUND', ...codes]);
}

/** A dead-letter action on every entry matching the filter in the body. */
function bulk(summary: string, status: number, description: string, field: string): Schema {
  const success = { [status]: ok(description, count(field)) };
  return v1(summary, { requestBody: jsonBody('DeadLetterFilter') }, success, [
    'VALIDATION_FAILED',
    'MALFORMED_JSON',
    'FORBIDDEN',
  ]);
}

/** An unauthenticated operation (health, readiness, metrics, this document). */
function unauthenticated(summary: string, success: Schema, unavailable = 'SHUTTING_DOWN'): Schema {
  return {
    summary,
    responses: { 200: success, 503: { description: unavailable, ...json(ref('Error')) } },
  };
}

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the same zod schemas the handlers
 * and the library validate with (request bodies in their input form, defaults included).
 */
export function openApiDocument(s: ApiSchemas, version: string): Schema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Atelier API',
      version,
      description:
        'Enqueue AI drawings and Tencent CME material operations, follow jobs and batches, repair dead letters. ' +
        'Errors are {error: {code, message, details?}} with a stable code. A repeated idempotencyKey answers ' +
        '202 with the same id and the header Idempotent-Replayed: true. Each key acts for its tenant ' +
        '(ATELIER_API_KEYS name:token; a bare token is tenant default): idempotency keys are per tenant, ' +
        "and another tenant's job, batch, dead letter or image answers 404 NOT_FOUND exactly as one that " +
        'does not exist. Admin keys (ATELIER_ADMIN_KEYS) act on every tenant and may filter by tenant; a ' +
        "tenant's key naming another tenant gets 403 FORBIDDEN. Enqueues count images on their tenant's " +
        'UTC day against its quota (ATELIER_QUOTAS; GET /v1/usage).',
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
        ArchivedImage: schema(s.archivedImage),
        BatchCreated: schema(s.batchCreated),
        Batch: schema(s.batchInfo),
        BatchResultLine: schema(s.batchResultLine),
        DeadLetter: schema(s.deadLetter),
        DeadLetterPage: schema(s.deadLetterPage),
        DeadLetterFilter: schema(s.deadLetterBulkBody, 'input'),
        UsageReport: schema(s.usageReport),
        StatsSeries: schema(s.statsSeries),
        Error: schema(s.error),
        OutcomeUnknownError: schema(s.outcomeUnknownError),
        QuotaExceededError: schema(s.quotaExceededError),
      },
    },
    paths: {
      '/v1/drawings': {
        post: enqueue(
          'Enqueue a drawing',
          'DrawingRequest',
          'queued (or already known by its idempotencyKey)',
        ),
      },
      '/v1/cme/operations': {
        post: enqueue(
          'Enqueue a CME material operation (params are checked against the action)',
          'CmeOperationRequest',
          'queued',
        ),
      },
      '/v1/jobs/{id}': {
        get: byId(
          'Status of a job (queued, running, polling, retrying, completed, dead, cancelled)',
          { 200: ok('the job', ref('JobStatus')) },
        ),
      },
      '/v1/jobs/{id}/cancel': {
        post: byId(
          'Cancel a job not yet submitted: it is never submitted and ends cancelled (error.code CANCELLED). ' +
            'A waiting job ends at once; a running one stops at its submit. Idempotent.',
          {
            202: ok(
              'cancelled (or, running, stopping at its submit): the job status',
              ref('JobStatus'),
            ),
          },
          'ALREADY_SUBMITTED',
          'ALREADY_FINISHED',
        ),
      },
      '/v1/usage': {
        get: v1(
          "The caller's tenant's images and jobs per UTC day, and its quota (an admin key may name any tenant)",
          {
            parameters: [
              query('from', 'first UTC day, YYYY-MM-DD (default: 29 days before to)'),
              query('to', 'last UTC day, YYYY-MM-DD (default: today); at most 366 days'),
              query('tenant', "another tenant's usage (admin keys only)"),
            ],
          },
          { 200: ok('one line per day, oldest first', ref('UsageReport')) },
          ['VALIDATION_FAILED', 'FORBIDDEN'],
        ),
      },
      '/v1/images/{key}': {
        get: v1(
          "An archived image (a drawing result's archived[].url), streamed from the image store",
          { parameters: [imageKeyParam] },
          {
            200: {
              description:
                'the image, with Cache-Control: private, max-age=31536000, immutable (a key never changes)',
              content: { 'image/png': binary, 'image/jpeg': binary, 'image/webp': binary },
            },
          },
          ['NOT_FOUND'],
        ),
      },
      '/v1/batches': {
        post: quotaLimited(
          enqueuing(
            v1(
              'Create a batch of drawings (JSON body, options before or after items, or NDJSON with ' +
                'options in the query string; both streamed). Large bodies (over 1 MiB, or without a ' +
                'Content-Length) are read ATELIER_MAX_CONCURRENT_BATCH_UPLOADS at a time per API ' +
                'process: 429 TOO_MANY_BATCH_UPLOADS with Retry-After beyond that',
              {
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
              },
              { 202: ok('every item validated and queued', ref('BatchCreated')) },
              [...ENQUEUE_ERRORS, 'IDEMPOTENCY_CONFLICT', 'TOO_MANY_BATCH_UPLOADS'],
            ),
          ),
        ),
      },
      '/v1/batches/{id}': {
        get: byId('Progress of a batch', { 200: ok('the batch', ref('Batch')) }),
      },
      '/v1/batches/{id}/cancel': {
        post: byId(
          'Cancel a batch: from this answer on none of its items is submitted; items already submitted ' +
            '(paid) finish and keep their results. State cancelling, then cancelled once nothing is in ' +
            'flight (batch.completed is sent once, with the counts). Idempotent.',
          { 202: ok('the batch', ref('Batch')) },
          'BATCH_FINISHED',
        ),
      },
      '/v1/batches/{id}/pause': {
        post: byId(
          'Pause a batch: nothing new is submitted; tasks already submitted keep polling. Idempotent.',
          { 202: ok('the batch', ref('Batch')) },
          'BATCH_FINISHED',
          'BATCH_CANCELLED',
        ),
      },
      '/v1/batches/{id}/resume': {
        post: byId(
          'Resume a paused batch: its waiting items go on at once, no attempt used. Idempotent.',
          { 202: ok('the batch', ref('Batch')) },
          'BATCH_FINISHED',
          'BATCH_CANCELLED',
        ),
      },
      '/v1/batches/{id}/results': {
        get: byId('One NDJSON line per item, in input order (pending items included)', {
          200: {
            description: 'NDJSON stream of BatchResultLine',
            content: { 'application/x-ndjson': { schema: ref('BatchResultLine') } },
          },
        }),
      },
      '/v1/dead-letters': {
        get: v1(
          'Dead letters, newest first',
          {
            parameters: [
              query('queue', 'drawing | cme'),
              query('code', 'provider or Atelier code, e.g. POLL_TIMEOUT'),
              query('batchId', 'entries of one batch'),
              query(
                'tenant',
                "one tenant's entries (admin keys; a tenant's key always gets its own)",
              ),
              query('since', 'failedAt ≥ this (epoch ms or ISO-8601)'),
              query('until', 'failedAt ≤ this (epoch ms or ISO-8601)'),
              query('offset', 'default 0', 'integer'),
              query('limit', '1..500, default 50', 'integer'),
            ],
          },
          { 200: ok('a page', ref('DeadLetterPage')) },
          ['VALIDATION_FAILED', 'FORBIDDEN'],
        ),
      },
      '/v1/dead-letters/{id}': {
        get: byId('One dead letter', { 200: ok('the entry', ref('DeadLetter')) }),
        delete: byId(
          'Delete a dead letter (and its failed job); a batch item stays dead',
          { 204: ok('deleted') },
          'REPLAY_CONFLICT',
        ),
      },
      '/v1/dead-letters/{id}/replay': {
        post: byId(
          'Run a dead letter again (a drawing with a taskId resumes polling)',
          { 202: ok('queued again', ref('Accepted')) },
          'REPLAY_CONFLICT',
        ),
      },
      '/v1/dead-letters/replay': {
        post: bulk(
          'Replay every dead letter matching a filter (empty filter: send all: true)',
          202,
          'how many were replayed',
          'replayed',
        ),
      },
      '/v1/dead-letters/purge': {
        post: bulk(
          'Delete every dead letter matching a filter (empty filter: send all: true)',
          200,
          'how many were deleted',
          'purged',
        ),
      },
      '/v1/stats': {
        get: v1(
          "Atelier's time series (admin keys): completed, dead and retried jobs per queue, latency p50/p95/p99, polls per task, provider codes, CME logins, images per tenant",
          {
            parameters: [
              query('from', 'start, epoch ms or ISO-8601 (default: an hour before to)'),
              query('to', 'end, exclusive, epoch ms or ISO-8601 (default: now)'),
              query(
                'step',
                'seconds per point: whole minutes below 3600 (minute buckets, kept 48 h), whole hours from 3600 (hour buckets, kept 30 days); at most 1500 points (default: 60 up to 6 h, 600 up to 48 h, else 3600)',
                'integer',
              ),
            ],
          },
          { 200: ok('the series', ref('StatsSeries')) },
          ['VALIDATION_FAILED'],
        ),
      },
      '/healthz': { get: unauthenticated('The process is up', ok('up')) },
      '/readyz': {
        get: unauthenticated('Redis is reachable', ok('ready'), 'REDIS_UNAVAILABLE, SHUTTING_DOWN'),
      },
      '/metrics': {
        get: unauthenticated(
          'Prometheus metrics (queue depth per state, open batches, dead letters by code, requests)',
          { description: 'text exposition format', content: { 'text/plain': {} } },
        ),
      },
      '/openapi.json': { get: unauthenticated('This document', ok('OpenAPI 3.1')) },
    },
  };
}
