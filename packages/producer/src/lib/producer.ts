import type { CmeOperationRequest, DeadLetter, DrawingRequest } from '@atelier/shared';
import {
  type BatchInfo,
  type BatchItemResult,
  BatchLedger,
  BatchSteering,
  CallbackScheduler,
  createRedisConnection,
  type DeadLetterFilter,
  type DeadLetterPage,
  DeadLetterStore,
  JobCancellation,
  JobSnapshot,
  ledgerRetention,
  type RedisClient,
  redisReady,
  type StatsSeries,
  TimeSeries,
} from '@atelier/store';
import { BatchCloser } from './batch-closer.ts';
import {
  type BatchCreated,
  BatchEnqueuer,
  type BatchItems,
  type BatchOptions,
} from './batch-enqueuer.ts';
import { type BatchItemImages, batchImages } from './batch-images.ts';
import { batchResults } from './batch-results.ts';
import { CallbackPolicy } from './callback-policy.ts';
import { DeadLetterOperations, type PageRequest } from './dead-letter-operations.ts';
import { NotFoundError } from './errors/not-found-error.ts';
import type { JobStatus } from './job-status.ts';
import { JobStatusReader } from './job-status-reader.ts';
import { type ProducerOptions, resolveProducerOptions } from './producer-options.ts';
import { ProducerQueues } from './producer-queues.ts';
import { type ProducerStats, readProducerStats } from './producer-stats.ts';
import { RedisGuard } from './redis-guard.ts';
import { type EnqueueResult, SingleEnqueuer } from './single-enqueuer.ts';
import { resolveStatsQuery, type StatsQuery } from './stats-query.ts';
import { SteeringOperations } from './steering-operations.ts';

/** The typed front door for Node services: enqueue, inspect and repair Atelier jobs. */
export interface Producer {
  /** The Redis connection the producer uses (for health checks and shared rate limits). */
  readonly redis: RedisClient;
  readonly prefix: string;
  enqueueDrawing(request: DrawingRequest): Promise<EnqueueResult>;
  enqueueCmeOperation(request: CmeOperationRequest): Promise<EnqueueResult>;
  /**
   * Validates every item, then queues them. `options` may be a function called once the items
   * were read (options that come after the items in a streamed body); `items` is then iterated.
   */
  createBatch(
    items: BatchItems,
    options?: BatchOptions | (() => BatchOptions),
  ): Promise<BatchCreated>;
  getJob(id: string): Promise<JobStatus>;
  getBatch(id: string): Promise<BatchInfo>;
  /**
   * Cancels a job not yet submitted: a waiting job ends `cancelled` at once, a running one stops
   * at its submit (never paid for). Returns its status. `CancelConflictError` once it was
   * submitted (`ALREADY_SUBMITTED`: the money is spent) or ended (`ALREADY_FINISHED`).
   */
  cancelJob(id: string): Promise<JobStatus>;
  /**
   * Cancels a batch: from this answer on no item of it is submitted; items already submitted
   * finish and keep their results. The batch is `cancelling`, then `cancelled` once nothing is
   * in flight. Idempotent; `BatchStateError` (`BATCH_FINISHED`) for a completed batch.
   */
  cancelBatch(id: string): Promise<BatchInfo>;
  /** Pauses a batch: nothing new is submitted (tasks in flight go on) until it is resumed. */
  pauseBatch(id: string): Promise<BatchInfo>;
  /** Resumes a paused batch (its waiting items go again at once). */
  resumeBatch(id: string): Promise<BatchInfo>;
  /** Result lines in input order; throws `NotFoundError` (on first read) for an unknown batch. */
  batchResults(id: string): AsyncIterable<BatchItemResult>;
  /**
   * Every item in input order with its request and archived images (`result.archived`), for
   * downloading a batch's pictures; throws `NotFoundError` (on first read) for an unknown batch.
   */
  batchImages(id: string): AsyncIterable<BatchItemImages>;
  listDeadLetters(filter?: DeadLetterFilter, page?: PageRequest): Promise<DeadLetterPage>;
  getDeadLetter(id: string): Promise<DeadLetter>;
  replayDeadLetter(id: string): Promise<void>;
  /** Replays every dead letter matching the filter; returns how many. */
  replayDeadLetters(filter: DeadLetterFilter): Promise<number>;
  deleteDeadLetter(id: string): Promise<void>;
  /** Deletes every dead letter matching the filter; returns how many. */
  purgeDeadLetters(filter: DeadLetterFilter): Promise<number>;
  /**
   * Closes every batch without an idempotency key whose enqueue was cut off (its enqueuer died,
   * its lease expired): the batch ends `incomplete` listing the items not queued, once its
   * queued items settled. The API runs this every few seconds. Returns the ids closed.
   */
  closeAbandonedBatches(): Promise<string[]>;
  /** Queue depths, open batches and dead letters by code (metrics, dashboard). */
  stats(): Promise<ProducerStats>;
  /**
   * Atelier's time series over a range (what `GET /v1/stats` answers and the dashboard draws);
   * throws `ValidationError` naming `from`, `to` or `step` for a range it cannot answer.
   */
  timeSeries(query?: StatsQuery): Promise<StatsSeries>;
  /** Resolves when Redis answers a PING within the command timeout. */
  ping(): Promise<void>;
  /** Waits (up to `timeoutMs`) for the first connection. */
  ready(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Creates a producer. Every call validates its input with the shared schemas before touching
 * Redis, and fails within about a second with `REDIS_UNAVAILABLE` when Redis is away (the
 * connection keeps reconnecting; calls succeed again once it is back).
 */
export function createProducer(options: ProducerOptions): Producer {
  const o = resolveProducerOptions(options);
  const owned = options.connection === undefined;
  const redis =
    options.connection ??
    createRedisConnection({
      url: options.redisUrl as string,
      role: 'producer',
      connectionName: 'atelier-producer',
    });
  if (owned) redis.on('error', (err) => o.logger.debug({ err }, 'redis connection error'));
  const guard = new RedisGuard(redis);
  const queues = new ProducerQueues(redis, o.prefix, o.retention, o.logger);
  const deadLetters = new DeadLetterStore(redis, o.prefix);
  const ledger = new BatchLedger(redis, o.prefix, ledgerRetention(o.retention));
  const callbacks = new CallbackPolicy(o.callbacks);
  const snapshots = new JobSnapshot(redis, o.prefix);
  const single = new SingleEnqueuer({
    queues,
    guard,
    snapshots,
    callbacks,
    limits: o.limits,
  });
  const completions = new CallbackScheduler({
    // A batch with a callbackUrl was accepted only with callbacks enabled.
    queue: o.callbacks.enabled ? queues.callbacks : undefined,
    logger: o.logger,
  });
  const closer = new BatchCloser({
    ledger,
    queues,
    redis,
    completions,
    logger: o.logger,
    prefix: o.prefix,
    leaseMs: o.batchLeaseMs,
  });
  const batches = new BatchEnqueuer({
    queues,
    ledger,
    redis,
    guard,
    callbacks,
    completions,
    closer,
    leaseMs: o.batchLeaseMs,
    logger: o.logger,
    limits: o.limits,
    prefix: o.prefix,
    maxItems: o.batchMaxItems,
    chunkSize: o.batchChunkSize,
    chunksInFlight: o.batchChunksInFlight,
  });
  const status = new JobStatusReader({ queues, snapshots, guard });
  const cancellation = new JobCancellation(redis, o.prefix, ledger.retention);
  const steering = new SteeringOperations({
    queues,
    ledger,
    steering: new BatchSteering({
      redis,
      prefix: o.prefix,
      ledger,
      cancellation,
      queue: queues.drawing,
      callbacks: completions,
      logger: o.logger,
    }),
    cancellation,
    status,
    completions,
    guard,
    logger: o.logger,
  });
  const series = new TimeSeries(redis, o.prefix);
  const deadLetterOps = new DeadLetterOperations({
    queues,
    deadLetters,
    snapshots,
    guard,
    logger: o.logger,
    redis,
    prefix: o.prefix,
  });

  return {
    redis,
    prefix: o.prefix,
    enqueueDrawing: (request) => single.drawing(request),
    enqueueCmeOperation: (request) => single.cme(request),
    createBatch: (items, batchOptions) => batches.create(items, batchOptions),
    getJob: (id) => status.get(id),
    async getBatch(id) {
      const info = await guard.run(() => ledger.get(id));
      if (!info) throw new NotFoundError('batch', id);
      return info;
    },
    cancelJob: (id) => steering.cancelJob(id),
    cancelBatch: (id) => steering.cancelBatch(id),
    pauseBatch: (id) => steering.pauseBatch(id),
    resumeBatch: (id) => steering.resumeBatch(id),
    batchResults: (id) => batchResults(ledger, guard, id),
    batchImages: (id) => batchImages({ ledger, queues, deadLetters, guard }, id),
    listDeadLetters: (filter, page) => deadLetterOps.list(filter, page),
    getDeadLetter: (id) => deadLetterOps.get(id),
    replayDeadLetter: (id) => deadLetterOps.replay(id),
    replayDeadLetters: (filter) => deadLetterOps.replayMatching(filter),
    deleteDeadLetter: (id) => deadLetterOps.delete(id),
    purgeDeadLetters: (filter) => deadLetterOps.purgeMatching(filter),
    closeAbandonedBatches: () => closer.closeAbandoned(),
    stats: () => readProducerStats(queues, deadLetters, ledger, guard),
    async timeSeries(query) {
      const range = resolveStatsQuery(query, Date.now());
      return guard.run(() => series.series(range));
    },
    async ping() {
      await guard.run(() => redis.ping());
    },
    ready: (timeoutMs = 5000) => redisReady(redis, timeoutMs),
    async close() {
      await steering.close();
      await queues.close().catch((err) => o.logger.warn({ err }, 'closing queues failed'));
      if (owned) redis.disconnect();
    },
  };
}
