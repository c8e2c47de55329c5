export type { AdminOptions } from './admin/admin-options.ts';
export { adminPlugin } from './admin/admin-plugin.ts';
export { maskSecrets } from './admin/mask-secrets.ts';
export type {
  BatchCreated,
  BatchItems,
  BatchOptions,
} from './batch-enqueuer.ts';
export { batchIdFor, batchItemJobId } from './batch-id.ts';
export type { BatchItem, ItemLabel } from './batch-item-parser.ts';
export type { PageRequest } from './dead-letter-admin.ts';
export { CallbackRefusedError } from './errors/callback-refused-error.ts';
export { IdempotencyConflictError } from './errors/idempotency-conflict-error.ts';
export { NotFoundError } from './errors/not-found-error.ts';
export { RedisUnavailableError } from './errors/redis-unavailable-error.ts';
export { ApiKeyAuth } from './http/api-key-auth.ts';
export { type ApiOptions, apiOptionsFromConfig, buildApi } from './http/build-api.ts';
export {
  type ApiErrorCode,
  ERROR_STATUS,
  type ErrorBody,
  errorResponse,
} from './http/error-response.ts';
export { JOB_STATES, type JobState, type JobStatus } from './job-status.ts';
export { ApiMetrics, type ApiMetricsOptions } from './metrics/api-metrics.ts';
export { NdjsonItems } from './ndjson-items.ts';
export { createProducer, type Producer } from './producer.ts';
export {
  type ProducerCallbackOptions,
  type ProducerOptions,
  producerOptionsFromConfig,
} from './producer-options.ts';
export { COUNTED_STATES, type ProducerStats } from './producer-stats.ts';
export type { EnqueueResult } from './single-enqueuer.ts';
