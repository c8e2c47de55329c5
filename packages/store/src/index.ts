export { announceBatchCompleted } from './announce-batch-completed.ts';
export {
  type BatchInfo,
  type BatchItemResult,
  type BatchItemState,
  BatchLedger,
  type BatchState,
  type BatchUsage,
  type IndexRange,
  isBatchFinished,
} from './batch-ledger.ts';
export {
  BatchSteering,
  type BatchSteeringOptions,
  type SteerResult,
} from './batch-steering.ts';
export { CallbackScheduler, type CallbackSchedulerOptions } from './callback-scheduler.ts';
export { listCmeTickets, type TicketInfo } from './cme-ticket-index.ts';
export {
  type DeadLetterFilter,
  type DeadLetterPage,
  DeadLetterStore,
  type FailedJobRecord,
} from './dead-letter-store.ts';
export {
  type FairPick,
  FairQueue,
  type FairQueueTarget,
  PARK_DELAY_MS,
  type ParkedWork,
} from './fair-queue.ts';
export { finishReplay, type ReplayFinish } from './finish-replay.ts';
export { resolveHost } from './host-resolver.ts';
export { FsImageStore } from './images/fs-image-store.ts';
export { ImageKeyError } from './images/image-key-error.ts';
export type {
  ImagePutInfo,
  ImageRead,
  ImageStore,
  StoredImageInfo,
} from './images/image-store.ts';
export { openImageStore } from './images/open-image-store.ts';
export {
  type BatchItemRef,
  type JobCancelAnswer,
  JobCancellation,
} from './job-cancellation.ts';
export {
  CANCEL_REQUEST_FIELD,
  CANCELLED_FIELD,
  COMPLETION_FIELD,
  JobFence,
  type JobLock,
  jobLock,
  lockKeyOf,
  type RecordedEnding,
  type SubmitClaim,
} from './job-fence.ts';
export {
  type BullmqJobState,
  type BullmqQueueKeys,
  type JobRecord,
  JobSnapshot,
  type JobSnapshotView,
} from './job-snapshot.ts';
export { ledgerRetention } from './ledger-retention.ts';
export { LIMITER_MAX } from './limiter.ts';
export { isLockLost, LockLostError } from './lock-lost-error.ts';
export { LuaScript } from './lua-script.ts';
export { type HaltRecord, QueueHalt } from './queue-halt.ts';
export { type RecentError, RecentErrors } from './recent-errors.ts';
export {
  createRedisConnection,
  isClusterUrl,
  type RedisClient,
  type RedisConnectionOptions,
  type RedisRole,
  redisReady,
} from './redis.ts';
export { RedisLease } from './redis-lease.ts';
export {
  LATENCY_BOUNDS_MS,
  latencyBucket,
  type ParsedStatsField,
  parseStatsField,
  type QueueCounter,
  STATS_FIELD,
} from './stats/stats-fields.ts';
export {
  type LatencySeries,
  type QueueSeries,
  quantile,
  type StatsSeries,
  statsSeries,
} from './stats/stats-series.ts';
export {
  BUCKET_MS,
  bucketStart,
  MAX_BUCKETS_PER_READ,
  STATS_RETENTION_MS,
  type StatsBucket,
  type StatsCounts,
  type StatsRange,
  type StatsResolution,
  TimeSeries,
} from './stats/time-series.ts';
export {
  type DueSettlement,
  type Reservation,
  TenantUsage,
  type UsageDayFigures,
} from './tenant-usage.ts';
