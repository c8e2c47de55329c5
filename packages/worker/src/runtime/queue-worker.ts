import {
  type AnyJobData,
  type CmeResult,
  type DrawingResult,
  defaultJobOptions,
  type JobCancelled,
  type Logger,
  type QueueName,
  type RetentionOptions,
} from '@atelier/shared';
import {
  type DeadLetterStore,
  FairQueue,
  JobFence,
  LIMITER_MAX,
  QueueHalt,
  RecentErrors,
  type RedisClient,
} from '@atelier/store';
import { type BackoffStrategy, Queue, Worker, type WorkerOptions } from 'bullmq';
import type { WorkerObserver } from '../worker-observer.ts';
import { FairDispatcher, type FairDispatcherTimings } from './fair-dispatcher.ts';
import type { JobSettlement } from './job-settlement.ts';
import { reportJobStep } from './job-step-report.ts';
import { abortOnLockLoss } from './lock-loss.ts';
import { redisErrorListener } from './redis-error-listener.ts';
import type { StepProcessor } from './step.ts';
import { StepRunner } from './step-runner.ts';

/** What the job queues (drawing, CME) of one worker process share. */
export interface JobQueueDeps {
  connection: RedisClient;
  prefix: string;
  logger: Logger;
  settlement: JobSettlement;
  deadLetters: DeadLetterStore;
  backoffStrategy: BackoffStrategy;
  retention: RetentionOptions;
  observer: WorkerObserver;
  /** Tests shorten lock and stall timings. */
  workerOptions?: Partial<WorkerOptions>;
  /**
   * Fair share between tenants: the weights (`ATELIER_TENANT_WEIGHTS`) this process's
   * dispatchers admit parked jobs by (tests shorten their timings).
   */
  fairShare: {
    weights: Readonly<Record<string, number>>;
    timings?: Partial<FairDispatcherTimings>;
  };
}

export interface QueueWorkerOptions<D extends AnyJobData, R extends DrawingResult | CmeResult> {
  deps: JobQueueDeps;
  name: QueueName;
  processor: StepProcessor<D, R>;
  concurrency: number;
  /** Queue-wide pause after a throttling answer without its own hint. */
  throttleMs: number;
  /** Material for the halt fingerprint (never stored as such). */
  credentials: string[];
  /** Closes what else the queue owns (provider clients), after its worker; also if it fails to start. */
  close(): Promise<void>;
}

export interface QueueWorker {
  readonly name: QueueName;
  readonly queue: Queue;
  readonly worker: Worker;
  /** Admits the queue's parked jobs in fair order (stopped before the worker closes). */
  readonly dispatcher: FairDispatcher;
}

/** A started job queue and what else it owns (provider clients), closed after its worker. */
export interface StartedJobQueue {
  readonly queueWorker: QueueWorker;
  close(): Promise<void>;
}

/** Starts a job queue's worker; what the queue owns is closed again when that fails. */
export async function startQueueWorker<D extends AnyJobData, R extends DrawingResult | CmeResult>(
  options: QueueWorkerOptions<D, R>,
): Promise<StartedJobQueue> {
  try {
    return { queueWorker: await startWorker(options), close: options.close };
  } catch (error) {
    await options.close().catch(() => undefined);
    throw error;
  }
}

/**
 * One BullMQ worker and its queue handle, wired to the step runner. Manual rate limiting
 * (`queue.rateLimit`, used for throttling and outage windows) only takes effect when the
 * worker has a limiter, so it gets one far above any real rate.
 */
async function startWorker<D extends AnyJobData, R extends DrawingResult | CmeResult>(
  options: QueueWorkerOptions<D, R>,
): Promise<QueueWorker> {
  const { deps, name } = options;
  const { connection, prefix } = deps;
  const logger = deps.logger.child({ queue: name });
  const queue = new Queue(name, {
    connection,
    prefix,
    defaultJobOptions: defaultJobOptions(name, deps.retention),
  });
  queue.on('error', redisErrorListener(logger, 'queue error'));
  const halt = new QueueHalt({
    queue,
    redis: connection,
    prefix,
    logger,
    credentials: options.credentials,
  });
  await halt.resumeIfCredentialsChanged();

  const runner = new StepRunner<D, R>({
    queue,
    logger,
    fence: new JobFence(connection, prefix),
    processor: options.processor,
    books: {
      settlement: deps.settlement,
      throttleMs: options.throttleMs,
      deadLetters: deps.deadLetters,
      halt,
      recentErrors: new RecentErrors(connection, prefix),
    },
    report: reportJobStep(name, (event) => deps.observer.step?.(event)),
  });
  const worker = new Worker<D, R | JobCancelled>(
    name,
    (job, token, signal) => runner.run(job, token, signal),
    {
      connection,
      prefix,
      concurrency: options.concurrency,
      limiter: { max: LIMITER_MAX, duration: 1000 },
      maxStalledCount: 10,
      // After a manual rate limit ends BullMQ may sit in a blocking wait for the full drain delay
      // (5 s by default) before it looks again: keep that wait short.
      drainDelay: 1,
      settings: { backoffStrategy: deps.backoffStrategy },
      // Per-minute completed/failed counts for the dashboard's rates (one day kept).
      metrics: { maxDataPoints: 24 * 60 },
      ...deps.workerOptions,
    },
  );
  worker.on('error', redisErrorListener(logger, 'worker error', 'error'));
  abortOnLockLoss(worker as unknown as Worker);
  await worker.waitUntilReady();
  const dispatcher = new FairDispatcher({
    fair: new FairQueue(connection, prefix, queue),
    queue,
    worker: worker as unknown as Worker,
    redis: connection,
    prefix,
    concurrency: options.concurrency,
    weights: deps.fairShare.weights,
    logger,
    ...(deps.fairShare.timings ? { timings: deps.fairShare.timings } : {}),
  });
  dispatcher.start();
  return { name, queue, worker: worker as unknown as Worker, dispatcher };
}
