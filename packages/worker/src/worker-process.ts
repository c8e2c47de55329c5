import {
  type AtelierConfig,
  type CallbackJobData,
  configuredTenants,
  DEFAULT_TENANT,
  defaultJobOptions,
  type Logger,
  QUEUE_NAMES,
} from '@atelier/shared';
import {
  BatchLedger,
  BatchSteering,
  CallbackScheduler,
  createRedisConnection,
  DeadLetterStore,
  JobCancellation,
  JobFence,
  ledgerRetention,
  type RedisClient,
  TenantUsage,
  TimeSeries,
} from '@atelier/store';
import { Queue, type WorkerOptions } from 'bullmq';
import { type CallbackWorker, startCallbackWorker } from './callbacks/callback-worker.ts';
import { startCmeQueue } from './cme/cme-queue.ts';
import { combineObservers } from './combine-observers.ts';
import { startDrawingQueue } from './drawing/drawing-queue.ts';
import { StatsRecorder } from './metrics/stats-recorder.ts';
import { createBackoffStrategy } from './runtime/backoff.ts';
import { BatchSteeringKeeper } from './runtime/batch-steering-keeper.ts';
import { DeadLetterReconciler } from './runtime/dead-letter-reconciler.ts';
import type { FairDispatcherTimings } from './runtime/fair-dispatcher.ts';
import { JobSettlement } from './runtime/job-settlement.ts';
import type { JobQueueDeps, QueueWorker, StartedJobQueue } from './runtime/queue-worker.ts';
import { redisErrorListener } from './runtime/redis-error-listener.ts';
import type { WorkerObserver } from './worker-observer.ts';

export interface AtelierWorkerOptions {
  config: AtelierConfig;
  logger: Logger;
  /** Redis to use (else `config.redisUrl`). */
  redisUrl?: string;
  /** Shorter lock/stall timings for failure tests. */
  workerOptions?: Partial<WorkerOptions>;
  /** Hears about calls, polls, refreshes, dead letters (metrics, benchmarks). */
  observer?: WorkerObserver;
  /** Shorter fair-share timings (tests). */
  fairShareTimings?: Partial<FairDispatcherTimings>;
  /** How often this process writes its counts to the time series (default 5000 ms). */
  statsFlushMs?: number;
}

type Closer = () => Promise<unknown>;

const DEFAULT_GRACE_MS = 30_000;

/** What a worker process runs, as far as it got started. */
interface Running {
  connection: RedisClient;
  logger: Logger;
  queues: QueueWorker[];
  callbacks?: CallbackWorker;
  reconciler?: DeadLetterReconciler;
  /** Tends cancelled and resumed batches (with the drawing queue). */
  keeper?: BatchSteeringKeeper;
  /** Atelier's time series (charts, `GET /v1/stats`): written last, before the connection goes. */
  stats?: StatsRecorder;
  /** Closed last, newest first (provider clients, the callback queue handle). */
  closers: Closer[];
}

/**
 * One worker process: a BullMQ worker per enabled queue (drawing, cme, callbacks), sharing a
 * Redis connection, the dead-letter store, the batch ledger and the callback queue.
 */
export class AtelierWorker {
  readonly queues: readonly QueueWorker[];
  /** Not in `queues`: a failed delivery is not a dead job (the reconciler must not see it). */
  readonly callbacks: CallbackWorker | undefined;
  readonly reconciler: DeadLetterReconciler;
  readonly #running: Running;
  #closing: Promise<void> | undefined;

  private constructor(running: Running, reconciler: DeadLetterReconciler) {
    this.#running = running;
    this.queues = running.queues;
    this.callbacks = running.callbacks;
    this.reconciler = reconciler;
  }

  static async start(options: AtelierWorkerOptions): Promise<AtelierWorker> {
    const { config, logger } = options;
    const url = options.redisUrl ?? config.redisUrl;
    if (!url) throw new Error('REDIS_URL is required to start a worker');
    const connection = createRedisConnection({
      url,
      role: 'worker',
      connectionName: 'atelier-worker',
    });
    connection.on('error', (err) => logger.warn({ err }, 'redis connection error'));
    const stats = new StatsRecorder({
      sink: new TimeSeries(connection, config.queuePrefix),
      logger: logger.child({ component: 'stats' }),
      tenants: namedTenants(config),
      ...(options.statsFlushMs !== undefined ? { flushIntervalMs: options.statsFlushMs } : {}),
    });
    const running: Running = { connection, logger, queues: [], closers: [], stats };
    stats.start();
    // Everything the process reports reaches the time series and the caller's observer alike.
    const observer = combineObservers(stats, options.observer);
    try {
      const { deps, batches, callbacks, cancellation } = jobQueueDeps(options, observer, running);
      const enabled = config.worker.queues;
      const adopt = ({ queueWorker, close }: StartedJobQueue) => {
        running.queues.push(queueWorker);
        running.closers.push(close);
      };
      if (enabled.includes('drawing')) {
        adopt(
          await startDrawingQueue(deps, config.drawing, config.images, config.worker.journalDir),
        );
      }
      if (enabled.includes('cme')) adopt(await startCmeQueue(deps, config.cme));
      if (enabled.includes('callbacks') && config.callbacks.secret) {
        running.callbacks = await startCallbackWorker({
          connection,
          prefix: config.queuePrefix,
          config,
          logger: logger.child({ queue: QUEUE_NAMES.callbacks }),
          onDelivery: (info) => observer.callbackDelivery?.(info),
          ...(options.workerOptions ? { workerOptions: options.workerOptions } : {}),
        });
      }
      running.reconciler = new DeadLetterReconciler({
        queues: running.queues.map((q) => q.queue),
        deadLetters: deps.deadLetters,
        settlement: deps.settlement,
        redis: connection,
        prefix: config.queuePrefix,
        logger,
        deadLetterMaxAgeMs: config.retention.deadLetterAgeSec * 1000,
        batches,
        batchMaxAgeMs: config.retention.batchAgeSec * 1000,
      });
      running.reconciler.start(config.worker.reconcileIntervalMs);
      const drawing = running.queues.find((q) => q.name === QUEUE_NAMES.drawing);
      if (drawing) {
        const steering = new BatchSteering({
          redis: connection,
          prefix: config.queuePrefix,
          ledger: batches,
          cancellation,
          queue: drawing.queue,
          callbacks,
          logger,
        });
        running.keeper = new BatchSteeringKeeper(steering, logger.child({ component: 'steering' }));
        running.keeper.start(config.worker.steeringIntervalMs);
      }
      return new AtelierWorker(running, running.reconciler);
    } catch (error) {
      await stop(running, DEFAULT_GRACE_MS);
      throw error;
    }
  }

  /**
   * Stops taking work, lets active jobs finish for up to `graceMs`, then hands the rest back
   * (force close: their locks lapse and another worker picks them up) and closes connections.
   */
  async close(graceMs = DEFAULT_GRACE_MS): Promise<void> {
    this.#closing ??= stop(this.#running, graceMs);
    return this.#closing;
  }
}

/**
 * What the job queues share: the dead-letter store, the batch ledger, the settlement (with the
 * handle it schedules callbacks on, and the cancellations it settles) and the backoff.
 */
function jobQueueDeps(
  options: AtelierWorkerOptions,
  observer: WorkerObserver,
  running: Running,
): {
  deps: JobQueueDeps;
  batches: BatchLedger;
  callbacks: CallbackScheduler;
  cancellation: JobCancellation;
} {
  const { config, logger } = options;
  const { connection } = running;
  const prefix = config.queuePrefix;
  const callbackQueue = config.callbacks.secret
    ? new Queue<CallbackJobData>(QUEUE_NAMES.callbacks, {
        connection,
        prefix,
        defaultJobOptions: defaultJobOptions(QUEUE_NAMES.callbacks, config.retention),
      })
    : undefined;
  if (callbackQueue) {
    callbackQueue.on('error', redisErrorListener(logger, 'callback queue error'));
    running.closers.push(() => callbackQueue.close());
  } else {
    logger.warn(
      { callbacks: 'disabled' },
      'CALLBACKS DISABLED: ATELIER_CALLBACK_SECRET is not set, so jobs that carry a callbackUrl ' +
        'finish without calling back (each one is logged); set the same secret as on the API',
    );
  }
  const deadLetters = new DeadLetterStore(connection, prefix);
  const batches = new BatchLedger(connection, prefix, ledgerRetention(config.retention));
  const callbacks = new CallbackScheduler({
    queue: callbackQueue,
    logger,
    onUnsent: (event) => observer.callbackUnsent?.(event),
  });
  const cancellation = new JobCancellation(connection, prefix, batches.retention);
  const settlement = new JobSettlement({
    deadLetters,
    batches,
    callbacks,
    fence: new JobFence(connection, prefix),
    cancellation,
    logger,
    usage: new TenantUsage(connection, prefix),
    onDeadLetter: (entry) => observer.deadLetter?.(entry),
  });
  const deps: JobQueueDeps = {
    connection,
    prefix,
    logger,
    settlement,
    deadLetters,
    backoffStrategy: createBackoffStrategy({
      baseMs: config.retry.baseMs,
      maxMs: config.retry.maxMs,
    }),
    retention: config.retention,
    observer,
    ...(options.workerOptions ? { workerOptions: options.workerOptions } : {}),
    fairShare: {
      weights: config.tenants.weights,
      ...(options.fairShareTimings ? { timings: options.fairShareTimings } : {}),
    },
  };
  return { deps, batches, callbacks, cancellation };
}

/** After the grace period, how long cancelled jobs get to be handed back before the force. */
const HAND_BACK_MS = 1500;
/** How long each closing step may take once the workers are stopped (or forced). */
const CLOSE_STEP_MS = 500;

/**
 * The shutdown of a worker process (or of one that failed to start), bounded whatever Redis
 * does: `graceMs` for active jobs to finish, `HAND_BACK_MS` for the ones cancelled then to be
 * handed back, then the force — every Redis connection is dropped (BullMQ's `close(true)`
 * after a `close()` only waits for that first close, which waits on Redis) — and at most
 * `CLOSE_STEP_MS` for each step after it: at most `graceMs` + 4 s in all.
 */
async function stop(running: Running, graceMs: number): Promise<void> {
  const { queues, callbacks, logger } = running;
  // No more admissions (they would only wait for the next process).
  await within(Promise.all(queues.map((q) => q.dispatcher.stop())), CLOSE_STEP_MS);
  const reconciling = running.reconciler?.stop();
  const tending = running.keeper?.stop();
  const workers = [...queues.map((q) => q.worker), ...(callbacks ? [callbacks.worker] : [])];
  const graceful = Promise.all([reconciling, tending, ...workers.map((w) => w.close())]);
  if ((await within(graceful, graceMs)) === 'timeout') {
    logger.warn({ graceMs }, 'grace period over: handing active jobs back');
    // Abort the processors: the step runner moves each cancelled job back to wait.
    for (const worker of workers) worker.cancelAllJobs('shutdown: grace period over');
    if ((await within(graceful, HAND_BACK_MS)) === 'timeout') {
      logger.warn(
        { handBackMs: HAND_BACK_MS },
        'jobs not handed back in time (is Redis reachable?): forcing, their locks will lapse',
      );
      // Pending commands fail at once; BullMQ's blocking connections go too.
      running.connection.disconnect();
      await Promise.all(
        workers.map((w) =>
          within(
            w.disconnect().catch(() => undefined),
            CLOSE_STEP_MS,
          ),
        ),
      );
      await within(graceful, CLOSE_STEP_MS);
    }
  }
  const closing = async (step: () => Promise<unknown>, what: string) => {
    const outcome = await within(
      step().catch((err: unknown) => logger.warn({ err }, `closing ${what} failed`)),
      CLOSE_STEP_MS,
    );
    if (outcome === 'timeout') logger.warn({ what }, `closing ${what} took too long: left`);
  };
  await closing(() => Promise.all(queues.map((q) => q.queue.close())), 'queues');
  if (callbacks) await closing(() => callbacks.close(), 'callbacks');
  const closers = running.closers.splice(0).reverse();
  // The workers are stopped: the time series' last counts are written beside the clients' close.
  await closing(
    () =>
      Promise.all([
        ...closers.map((close) => close().catch(() => undefined)),
        running.stats?.close(),
      ]),
    'clients',
  );
  running.connection.disconnect();
}

/** Waits for `promise` (whatever it settles to) at most `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  const done = promise.then(
    () => 'done' as const,
    () => 'done' as const,
  );
  try {
    return await Promise.race([done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The tenants the time series counts by name (the label stays bounded): `default`, those the
 * keys name (where this process has them), and those `ATELIER_QUOTAS` or
 * `ATELIER_TENANT_WEIGHTS` name; any other counts as `other`.
 */
function namedTenants(config: AtelierConfig): string[] {
  const { quotas, weights } = config.tenants;
  return [
    ...new Set([
      DEFAULT_TENANT,
      ...configuredTenants(config),
      ...Object.keys(quotas.byTenant),
      ...Object.keys(weights),
    ]),
  ];
}
