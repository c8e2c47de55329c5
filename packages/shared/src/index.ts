export {
  CALLBACK_HEADERS,
  CALLBACK_SIGNATURE_SCHEME,
  type CallbackRequestHeaders,
  type CallbackSignatureInput,
  type CallbackVerification,
  type CallbackVerifyReason,
  callbackHeaders,
  DEFAULT_CALLBACK_TOLERANCE_SEC,
  signCallback,
  type VerifyCallbackInput,
  verifyCallback,
} from './callback-signature.ts';
export {
  type CallbackUrlCheck,
  type CallbackUrlCheckOptions,
  type CallbackUrlRefusal,
  checkCallbackUrl,
  type HostResolver,
  isPrivateAddress,
  type ResolvedAddress,
  redactCallbackUrl,
} from './callback-url.ts';
export {
  type AtelierConfig,
  type CmeConfig,
  type ConfigRole,
  configuredTenants,
  DRAWING_AUTH_MODES,
  type DrawingAuthMode,
  type DrawingConfig,
  type ImageStoreConfig,
  type ImagesConfig,
  LOG_LEVELS,
  type LogLevel,
  loadConfig,
  type PollSchedule,
  quotaOf,
  requireCmeProvider,
  requireDrawingProvider,
  SIMULATED_PROVIDERS,
  type SimulatedProvider,
  type TenantsConfig,
} from './config/config.ts';
export { type Env, EnvReader, type TenantKey } from './config/env-reader.ts';
export { type DeadLetter, unpaidImages } from './dead-letter.ts';
export { AtelierError, type AtelierErrorOptions, hasCode } from './errors/atelier-error.ts';
export { ConfigError } from './errors/config-error.ts';
export {
  type FailureKind,
  isProviderError,
  ProviderError,
  type ProviderErrorOptions,
  type ProviderName,
} from './errors/provider-error.ts';
export { ValidationError, type ValidationIssue } from './errors/validation-error.ts';
export { parseFailedReason } from './failed-reason.ts';
export { guardProcess } from './guard-process.ts';
export { handleShutdown, type ShutdownOptions } from './handle-shutdown.ts';
export {
  IMAGE_CONTENT_TYPES,
  type ImageContentType,
  type ImageExtension,
  imageKeyContentType,
  imageKeyFor,
  imageUrlFor,
  isImageKey,
} from './image-key.ts';
export {
  batchItemIdPrefix,
  batchItemJobId,
  batchItemOfJobId,
  jobIdFor,
  kindOfJobId,
} from './job-id.ts';
export type {
  AnyJobData,
  AnyJobResult,
  ArchivedImage,
  AttemptRecord,
  CallbackEvent,
  CallbackJobData,
  CancelSource,
  CmeJobData,
  CmeJobState,
  CmeOperation,
  CmeResult,
  DrawingJobData,
  DrawingJobState,
  DrawingResult,
  FinishedTask,
  JobCancelled,
  JobKind,
  JobMeta,
  JobPayloadMap,
  PollPlan,
} from './job-payloads.ts';
export {
  createLogger,
  type Logger,
  type LoggerFactoryOptions,
  lazyChild,
  REDACT_PATHS,
  SECRET_FIELDS,
} from './logger.ts';
export { metricCode, OTHER_CODE } from './metric-code.ts';
export { failure, type Outcome, type OutcomeLabel, outcomeLabel } from './outcome.ts';
export {
  ALL_QUEUES,
  ATELIER_BACKOFF,
  DEFAULT_ATTEMPTS,
  DEFAULT_RETENTION,
  defaultJobOptions,
  QUEUE_NAMES,
  type QueueName,
  type RetentionOptions,
} from './queues.ts';
export { type AtelierKeys, atelierKeys } from './redis-keys.ts';
export {
  CME_ACTION_PARAMS,
  CME_ACTIONS,
  CME_USER_ID_PATTERN,
  type CmeAction,
  type CmeActionParams,
  type CmeOperationRequest,
  cmeOperationEnvelopeSchema,
  type ParsedCmeOperationRequest,
  parseCmeOperationRequest,
} from './schemas/cme-operation-request.ts';
export {
  DEFAULT_PRIORITY,
  IDEMPOTENCY_KEY_MAX_LENGTH,
  POLL_PRIORITY,
  PRIORITY_MAX,
  PRIORITY_MIN,
  toBullmqPriority,
} from './schemas/common-fields.ts';
export {
  DEFAULT_DRAWING_LIMITS,
  type DrawingLimits,
  type DrawingRequest,
  type DrawingTask,
  drawingRequestSchema,
  drawingTaskSchema,
  type ParsedDrawingRequest,
} from './schemas/drawing-request.ts';
export { toIssues, validate } from './schemas/validate.ts';
export { REDACTED, Secret, scrubUrl } from './secret.ts';
export {
  DEFAULT_TENANT,
  isTenantName,
  jobTenant,
  TENANT_NAME_PATTERN,
  tenantOfId,
  withTenant,
} from './tenant.ts';
export { nextUsageDayStart, usageDay, usageDayStart, usageDays } from './usage-day.ts';
