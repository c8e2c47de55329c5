import {
  type CmeOperationRequest,
  type DeadLetter,
  type DrawingRequest,
  isTenantName,
  kindOfJobId,
  quotaOf,
  type TenantsConfig,
  tenantOfId,
} from '@atelier/shared';
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
  TenantUsage,
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
import { ForbiddenError } from './errors/forbidden-error.ts';
import { NotFoundError } from './errors/not-found-error.ts';
import { FairAdmission } from './fair-admission.ts';
import type { JobStatus } from './job-status.ts';
import { JobStatusReader } from './job-status-reader.ts';
import { type ProducerOptions, resolveProducerOptions } from './producer-options.ts';
import { ProducerQueues } from './producer-queues.ts';
import { type ProducerStats, readProducerStats } from './producer-stats.ts';
import { RedisGuard } from './redis-guard.ts';
import { type EnqueueResult, SingleEnqueuer } from './single-enqueuer.ts';
import { resolveStatsQuery, type StatsQuery } from './stats-query.ts';
import { SteeringOperations } from './steering-operations.ts';
import { type UsageQuery, type UsageReport, usageReport } from './usage-report.ts';
import { UsageReservations } from './usage-reservations.ts';

/**
 * The typed front door for Node services: enqueue, inspect and repair Atelier jobs. A producer
 * acts for one tenant (`tenant`: its jobs and batches record it, its images count on its
 * usage); one that `seesAll` may read and act on every tenant's work, others only on their
 * own (another tenant's job, batch, dead letter or image is `NOT_FOUND`, as if it did not
 * exist). `createProducer` returns one that sees all; `forTenant` gives views for tenants.
 */
export interface Producer {
  /** The Redis connection the producer uses (for health checks and shared rate limits). */
  readonly redis: RedisClient;
  readonly prefix: string;
  /** The tenant this producer enqueues for. */
  readonly tenant: string;
  /** Whether it reads and acts on every tenant's work (else only `tenant`'s). */
  readonly seesAll: boolean;
  /**
   * The same producer acting for `tenant`: seeing only that tenant's work, unless `seesAll`
   * (an admin). Shares this one's connection; closing either closes both.
   */
  forTenant(tenant: string, options?: { seesAll?: boolean }): Producer;
  /** Whether work with this id (job, batch, dead letter, archived image's job) is visible here. */
  sees(id: string): boolean;
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
  /**
   * Gives back the usage reservations whose enqueue never finished (the process died between
   * reserving and queueing; a batch cut off part-way): those past their deadline whose work
   * does not exist. The API runs this with the batch sweep. Returns how many were given back.
   */
  settleReservations(): Promise<number>;
  /**
   * Images and jobs per UTC day (`from` to `to`, `YYYY-MM-DD`) of this producer's tenant — or,
   * for one that sees all, of `query.tenant`.
   */
  usage(query: UsageQuery): Promise<UsageReport>;
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
  const usage = new TenantUsage(redis, o.prefix);
  const reservations = new UsageReservations({
    usage,
    guard,
    quotas: o.quotas,
    clock: o.clock,
    logger: o.logger,
    // A batch's enqueue ends within its lease; looked at again after two.
    batchDeadlineMs: 2 * o.batchLeaseMs,
  });
  const fair = new FairAdmission({ enabled: o.fairShare, queues, redis, prefix: o.prefix, guard });
  const single = new SingleEnqueuer({
    queues,
    guard,
    snapshots,
    callbacks,
    limits: o.limits,
    reservations,
    fair,
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
    reservations,
    fair,
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
    usage,
  });
  const core: ProducerCore = {
    redis,
    prefix: o.prefix,
    guard,
    queues,
    ledger,
    deadLetters,
    single,
    batches,
    closer,
    status,
    deadLetterOps,
    reservations,
    usage,
    quotas: o.quotas,
    steering,
    series,
    close: async () => {
      await steering.close();
      await reservations.close();
      await queues.close().catch((err) => o.logger.warn({ err }, 'closing queues failed'));
      if (owned) redis.disconnect();
    },
  };
  return scopedProducer(core, { tenant: o.tenant, seesAll: true });
}

/** What every view of one producer shares. */
interface ProducerCore {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly guard: RedisGuard;
  readonly queues: ProducerQueues;
  readonly ledger: BatchLedger;
  readonly deadLetters: DeadLetterStore;
  readonly single: SingleEnqueuer;
  readonly batches: BatchEnqueuer;
  readonly closer: BatchCloser;
  readonly status: JobStatusReader;
  readonly deadLetterOps: DeadLetterOperations;
  readonly steering: SteeringOperations;
  readonly series: TimeSeries;
  readonly reservations: UsageReservations;
  readonly usage: TenantUsage;
  readonly quotas: TenantsConfig['quotas'];
  close(): Promise<void>;
}

interface Scope {
  readonly tenant: string;
  readonly seesAll: boolean;
}

/**
 * A producer acting for `scope.tenant`. Without `seesAll`, every id is checked against the
 * tenant it belongs to (read from the id: `tenantOfId`) before anything is read, and every
 * filter is narrowed to the tenant: another tenant's work answers `NOT_FOUND`, exactly as work
 * that does not exist (ids never leak).
 */
function scopedProducer(core: ProducerCore, scope: Scope): Producer {
  const { guard, ledger, single, batches, status, deadLetterOps, queues } = core;
  const sees = (id: string) => scope.seesAll || tenantOfId(id) === scope.tenant;
  const own = (what: 'job' | 'batch' | 'dead letter', id: string) => {
    if (!sees(id)) throw new NotFoundError(what, id);
  };
  /** The filter, narrowed to the tenant (one that sees all may name any tenant). */
  const scoped = (filter: DeadLetterFilter = {}): DeadLetterFilter => {
    if (scope.seesAll) return filter;
    if (filter.tenant !== undefined && filter.tenant !== scope.tenant) {
      throw new ForbiddenError(
        `tenant: this key acts for tenant ${scope.tenant} only (an admin key may name another)`,
        { field: 'tenant' },
      );
    }
    return { ...filter, tenant: scope.tenant };
  };
  const batchOf = async (id: string) => {
    own('batch', id);
    const info = await guard.run(() => ledger.get(id));
    if (!info) throw new NotFoundError('batch', id);
    return info;
  };
  /** A lazy stream that checks the batch is visible before its first line. */
  const visibleStream = <T>(id: string, lines: () => AsyncIterable<T>): AsyncIterable<T> => ({
    async *[Symbol.asyncIterator]() {
      own('batch', id);
      yield* lines();
    },
  });

  return {
    redis: core.redis,
    prefix: core.prefix,
    tenant: scope.tenant,
    seesAll: scope.seesAll,
    forTenant: (tenant, options = {}) =>
      scopedProducer(core, { tenant: checkedTenant(tenant), seesAll: options.seesAll ?? false }),
    sees,
    enqueueDrawing: (request) => single.drawing(request, scope.tenant),
    enqueueCmeOperation: (request) => single.cme(request, scope.tenant),
    createBatch: (items, batchOptions) => batches.create(items, batchOptions, scope.tenant),
    async getJob(id) {
      own('job', id);
      return status.get(id);
    },
    getBatch: batchOf,
    async cancelJob(id) {
      own('job', id);
      return core.steering.cancelJob(id);
    },
    async cancelBatch(id) {
      own('batch', id);
      return core.steering.cancelBatch(id);
    },
    async pauseBatch(id) {
      own('batch', id);
      return core.steering.pauseBatch(id);
    },
    async resumeBatch(id) {
      own('batch', id);
      return core.steering.resumeBatch(id);
    },
    batchResults: (id) => visibleStream(id, () => batchResults(ledger, guard, id)),
    batchImages: (id) =>
      visibleStream(id, () =>
        batchImages({ ledger, queues, deadLetters: core.deadLetters, guard }, id),
      ),
    listDeadLetters: (filter, page) => deadLetterOps.list(scoped(filter), page),
    async getDeadLetter(id) {
      own('dead letter', id);
      return deadLetterOps.get(id);
    },
    async replayDeadLetter(id) {
      own('dead letter', id);
      return deadLetterOps.replay(id);
    },
    replayDeadLetters: (filter) => deadLetterOps.replayMatching(scoped(filter)),
    async deleteDeadLetter(id) {
      own('dead letter', id);
      return deadLetterOps.delete(id);
    },
    purgeDeadLetters: (filter) => deadLetterOps.purgeMatching(scoped(filter)),
    closeAbandonedBatches: () => core.closer.closeAbandoned(),
    settleReservations: () =>
      core.reservations.settleDue((r) => {
        const kind = kindOfJobId(r.id) ?? 'drawing';
        return queues.forKind(kind).toKey(r.id);
      }),
    async usage(query) {
      // This process's counts of tenants without a quota first (written every second).
      await core.reservations.flush();
      return usageReport(
        core.usage,
        guard,
        { ...scope, quotaOf: (tenant) => quotaOf(core.quotas, tenant) },
        query,
      );
    },
    stats: () => readProducerStats(queues, core.deadLetters, ledger, guard),
    async timeSeries(query) {
      const range = resolveStatsQuery(query, Date.now());
      return guard.run(() => core.series.series(range));
    },
    async ping() {
      await guard.run(() => core.redis.ping());
    },
    ready: (timeoutMs = 5000) => redisReady(core.redis, timeoutMs),
    close: core.close,
  };
}

function checkedTenant(tenant: string): string {
  if (!isTenantName(tenant)) {
    throw new TypeError(
      `forTenant: tenant must be 1 to 40 of a-z, 0-9, "_" and "-", got "${tenant}"`,
    );
  }
  return tenant;
}
