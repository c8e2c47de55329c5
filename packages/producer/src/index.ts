/**
 * `@atelier/producer`: the typed library (enqueue, status, batches, dead-letter operations).
 * It loads BullMQ and ioredis, never Fastify, bull-board or prom-client: the HTTP API, the
 * dashboard and the CLI are their own entry points (`/http`, `/admin`, `/cli`).
 */
export type { BatchCreated, BatchItems, BatchOptions } from './lib/batch-enqueuer.ts';
export { batchIdFor, batchItemJobId } from './lib/batch-id.ts';
export type { BatchItemImages } from './lib/batch-images.ts';
export type { BatchItem, ItemLabel } from './lib/batch-item-parser.ts';
export type { PageRequest } from './lib/dead-letter-operations.ts';
export { BatchStateError } from './lib/errors/batch-state-error.ts';
export { CallbackRefusedError } from './lib/errors/callback-refused-error.ts';
export { CancelConflictError } from './lib/errors/cancel-conflict-error.ts';
export { IdempotencyConflictError } from './lib/errors/idempotency-conflict-error.ts';
export { NotFoundError } from './lib/errors/not-found-error.ts';
export { RedisUnavailableError } from './lib/errors/redis-unavailable-error.ts';
export { ReplayConflictError } from './lib/errors/replay-conflict-error.ts';
export { JOB_STATES, type JobState, type JobStatus } from './lib/job-status.ts';
export { NdjsonItems } from './lib/ndjson-items.ts';
export { createProducer, type Producer } from './lib/producer.ts';
export {
  type ProducerCallbackOptions,
  type ProducerOptions,
  producerOptionsFromConfig,
} from './lib/producer-options.ts';
export { COUNTED_STATES, type ProducerStats } from './lib/producer-stats.ts';
export type { EnqueueResult } from './lib/single-enqueuer.ts';
export { MAX_STATS_POINTS, type StatsQuery } from './lib/stats-query.ts';
