import {
  ALL_QUEUES,
  type DrawingLimits,
  drawingRequestSchema,
  TENANT_NAME_PATTERN,
} from '@atelier/shared';
import { z } from 'zod';
import { JOB_STATES } from '../lib/job-status.ts';
import { ERROR_STATUS } from './error-response.ts';

/** Schemas of the HTTP API beyond the shared request schemas: batches, queries, responses. */
export function apiSchemas(limits: DrawingLimits) {
  const drawingRequest = drawingRequestSchema(limits);
  const batchOptions = drawingRequest.pick({
    callbackUrl: true,
    idempotencyKey: true,
    priority: true,
  });
  const batchItem = drawingRequest.omit({ idempotencyKey: true });

  /**
   * `POST /v1/batches` JSON body's fields besides `items` (streamed and validated one by one
   * by the library): unknown fields are refused; option types are the library's to check.
   */
  const batchOptionsBody = z.strictObject({
    callbackUrl: z.unknown().optional(),
    idempotencyKey: z.unknown().optional(),
    priority: z.unknown().optional(),
  });
  /** What the OpenAPI document shows for that body. */
  const batchBodyDoc = batchOptions.extend({ items: z.array(batchItem).min(1) });

  /** `POST /v1/batches` NDJSON query string (the batch options). */
  const batchQuery = z.strictObject({
    callbackUrl: z.string().optional(),
    idempotencyKey: z.string().optional(),
    priority: z.string().optional(),
  });

  const timeBound = z
    .string()
    .transform((value, ctx) => {
      const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
      if (Number.isNaN(ms)) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be epoch milliseconds or an ISO-8601 date',
          params: { rule: 'time' },
        });
        return z.NEVER;
      }
      return ms;
    })
    .optional();
  const tenant = z
    .string()
    .regex(TENANT_NAME_PATTERN, { message: 'must be 1 to 40 of a-z, 0-9, "_" and "-"' })
    .optional()
    .meta({ description: "one tenant's (admin keys; a tenant's key may name only itself)" });
  const filterFields = {
    queue: z.enum(ALL_QUEUES.filter((q) => q !== 'callbacks') as [string, ...string[]]).optional(),
    code: z.string().min(1).max(200).optional(),
    batchId: z.string().min(1).max(200).optional(),
    tenant,
    since: timeBound,
    until: timeBound,
  };
  const day = z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a UTC day as YYYY-MM-DD' })
    .optional();
  /** `GET /v1/usage` query string. */
  const usageQuery = z.strictObject({ from: day, to: day, tenant });
  const int = (min: number, max: number, fallback: number) =>
    z
      .string()
      .regex(/^\d+$/, { message: 'must be a whole number' })
      .transform(Number)
      .pipe(z.int().min(min).max(max))
      .default(fallback);
  const deadLetterQuery = z.strictObject({
    ...filterFields,
    offset: int(0, Number.MAX_SAFE_INTEGER, 0),
    limit: int(1, 500, 50),
  });
  /** Bulk replay/purge body: a filter; an empty filter must say `all: true`. */
  const deadLetterBulkBody = z.strictObject({
    queue: filterFields.queue,
    code: filterFields.code,
    batchId: filterFields.batchId,
    tenant,
    since: z.union([z.int().min(0), z.iso.datetime()]).optional(),
    until: z.union([z.int().min(0), z.iso.datetime()]).optional(),
    all: z.literal(true).optional(),
  });

  const id = z.object({ id: z.string() });
  const jobStatus = z.object({
    id: z.string(),
    kind: z.enum(['drawing', 'cme']),
    state: z.enum(JOB_STATES as [string, ...string[]]),
    attempts: z.int(),
    result: z.unknown().optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  });
  const archivedImage = z
    .object({
      key: z.string().describe('<jobId>/<n>.<ext>: the name in the image store'),
      url: z.string().describe('/v1/images/<key>: where this API serves it'),
      bytes: z.int(),
      sha256: z.string().describe('lowercase hex SHA-256 of the bytes'),
      contentType: z.enum(['image/png', 'image/jpeg', 'image/webp']),
    })
    .describe("One element of a drawing result's archived (with ATELIER_IMAGE_STORE set)");
  const batchCreated = z.object({ id: z.string(), total: z.int() });
  const batchInfo = z.object({
    id: z.string(),
    total: z.int(),
    completed: z.int(),
    dead: z.int(),
    cancelled: z.int().describe('items stopped before they were submitted (nothing paid)'),
    pending: z
      .int()
      .describe(
        'total - completed - dead - cancelled, less items never queued (one consistent read)',
      ),
    state: z.enum(['open', 'paused', 'cancelling', 'completed', 'incomplete', 'cancelled']).meta({
      description:
        'open; paused (no new submits; submitted tasks go on); cancelling (no new submits ever; ' +
        'submitted tasks finish); then, once every queued item is completed, dead or cancelled: ' +
        'completed, incomplete when the enqueue of a batch without an idempotencyKey was cut off ' +
        'and notQueued lists items never queued, or cancelled once a cancelled batch has nothing in flight',
    }),
    enqueued: z.int(),
    notQueued: z
      .array(z.object({ first: z.int(), last: z.int() }))
      .optional()
      .meta({
        description: 'item indexes never queued, first to last included (incomplete batches)',
      }),
    createdAt: z.int(),
    completedAt: z.int().optional().describe('when it finished (completed or cancelled)'),
    pausedAt: z.int().optional(),
    cancelledAt: z.int().optional().describe('when the cancel was asked for'),
    tenant: z.string().meta({ description: 'the tenant whose key created it' }),
  });
  const batchResultLine = z.object({
    index: z.int(),
    jobId: z.string(),
    state: z.enum(['pending', 'completed', 'dead', 'cancelled', 'not_queued']),
    images: z.array(z.string()).optional(),
    archived: z
      .array(archivedImage)
      .optional()
      .describe('completed drawings with ATELIER_IMAGE_STORE set: the stored images'),
    taskId: z.string().optional(),
    code: z.string().optional(),
    message: z.string().optional(),
  });
  const deadLetter = z.object({
    id: z.string(),
    queue: z.enum(['drawing', 'cme']),
    kind: z.enum(['drawing', 'cme']),
    code: z.string(),
    message: z.string(),
    providerMessage: z.string().optional(),
    providerEnglishMessage: z.string().optional(),
    attempts: z.int(),
    history: z.array(
      z.object({ attempt: z.int(), at: z.int(), code: z.string(), message: z.string() }),
    ),
    taskId: z.string().optional(),
    request: z.record(z.string(), z.unknown()),
    meta: z.record(z.string(), z.unknown()),
    failedAt: z.int(),
  });
  const deadLetterPage = z.object({ items: z.array(deadLetter), total: z.int() });
  const usageDayFigures = z.object({
    day: z.string().meta({ description: 'YYYY-MM-DD (UTC)' }),
    images: z.int().meta({
      description:
        'images counted against the quota: reserved at enqueue, less those given back unpaid',
    }),
    jobs: z.int().meta({ description: 'jobs accepted (each batch item counts)' }),
  });
  const usageReport = z.object({
    tenant: z.string(),
    from: z.string(),
    to: z.string(),
    quota: z
      .int()
      .nullable()
      .meta({ description: 'images per UTC day (ATELIER_QUOTAS); null: no quota' }),
    days: z.array(usageDayFigures),
    total: z.object({ images: z.int(), jobs: z.int() }),
  });
  /** `429 QUOTA_EXCEEDED`: nothing was queued. */
  const quotaExceededError = z.object({
    error: z.object({
      code: z.literal('QUOTA_EXCEEDED'),
      message: z.string(),
      details: z.object({
        limit: z.int().meta({ description: 'images per UTC day' }),
        used: z.int().meta({ description: 'images counted today before this request' }),
        requested: z.int().meta({ description: 'images the request would add (a batch: all)' }),
        resetAt: z.string().meta({ description: 'the next UTC midnight (ISO-8601)' }),
      }),
    }),
  });
  const perStep = z.array(z.number()).describe('one value per entry of times');
  const perStepOrNull = z
    .array(z.number().nullable())
    .describe('one value per entry of times; null where there was nothing to measure');
  const statsSeries = z
    .object({
      from: z.int().describe('start of the first step (epoch ms; from aligned down to a step)'),
      to: z.int().describe('end of the range, exclusive (epoch ms)'),
      step: z.int().describe('seconds per point'),
      resolution: z
        .enum(['minute', 'hour'])
        .describe('the buckets summed: minutes (kept 48 h) or hours (kept 30 days)'),
      times: z.array(z.int()).describe('start of each step (epoch ms)'),
      queues: z
        .record(
          z.string(),
          z.object({
            completed: perStep,
            dead: perStep.describe('dead-lettered'),
            retried: perStep.describe('attempts that failed and were retried'),
            latencyMs: z
              .object({ p50: perStepOrNull, p95: perStepOrNull, p99: perStepOrNull })
              .describe('enqueue to completion, from a fixed histogram (ms)'),
          }),
        )
        .describe('every job queue (drawing, cme)'),
      pollsPerTask: z
        .record(z.string(), perStepOrNull)
        .describe('mean polls per finished drawing task, by queue'),
      providerCodes: z
        .record(z.string(), z.record(z.string(), perStep))
        .describe('provider answers by provider and code (codes the specs do not name: other)'),
      cmeLogins: z.record(z.string(), perStep).describe('CME logins by outcome (ok, auth, …)'),
      images: z.record(z.string(), perStep).describe('images of completed drawings by tenant'),
    })
    .describe('Atelier time series over [from, to) in steps of step seconds');
  const error = z.object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [string, ...string[]]),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  });

  /** A `503 REDIS_UNAVAILABLE` of an enqueue whose write was sent but not confirmed. */
  const outcomeUnknownError = z.object({
    error: z.object({
      code: z.literal('REDIS_UNAVAILABLE'),
      message: z.string(),
      details: z.object({
        outcome: z.literal('unknown'),
        id: z.string().meta({ description: 'the job or batch id the request was given' }),
      }),
    }),
  });

  return {
    drawingRequest,
    batchOptionsBody,
    batchBodyDoc,
    batchItem,
    batchQuery,
    deadLetterQuery,
    deadLetterBulkBody,
    id,
    jobStatus,
    archivedImage,
    batchCreated,
    batchInfo,
    batchResultLine,
    deadLetter,
    deadLetterPage,
    usageQuery,
    usageReport,
    quotaExceededError,
    statsSeries,
    error,
    outcomeUnknownError,
  };
}

export type ApiSchemas = ReturnType<typeof apiSchemas>;
