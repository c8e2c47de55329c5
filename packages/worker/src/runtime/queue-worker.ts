import {
  type AnyJobData,
  type CmeResult,
  type DrawingResult,
  defaultJobOptions,
  type Logger,
  type QueueName,
  type RetentionOptions,
} from '@atelier/shared';
import {
  type DeadLetterStore,
  LIMITER_MAX,
  QueueHalt,
  RecentErrors,
  type RedisClient,
} from '@atelier/store';
import { type BackoffStrategy, Queue, Worker, type WorkerOptions } from 'bullmq';
import { createJobProcessor, type JobRunnerOptions } from './job-runner.ts';
import type { JobSettlement } from './job-settlement.ts';
import type { StepProcessor } from './step.ts';

export interface QueueWorkerOptions<D extends AnyJobData, R extends DrawingResult | CmeResult> {
  name: QueueName;
  /** Builds the processor once the queue handle exists (outage windows rate-limit it). */
  processor: (queue: Queue) => StepProcessor<D, R>;
  connection: RedisClient;
  prefix: string;
  concurrency: number;
  settlement: JobSettlement;
  deadLetters: DeadLetterStore;
  logger: Logger;
  backoffStrategy: BackoffStrategy;
  throttleMs: number;
  retention: RetentionOptions;
  /** Material for the halt fingerprint (never stored as such). */
  credentials: string[];
  onStep?: JobRunnerOptions['onStep'];
  /** Tests shorten lock and stall timings. */
  workerOptions?: Partial<WorkerOptions>;
}

export interface QueueWorker {
  name: QueueName;
  queue: Queue;
  worker: Worker;
  halt: QueueHalt;
}

/**
 * One BullMQ worker and its queue handle, wired to the job runner. Manual rate limiting
 * (`queue.rateLimit`, used for throttling and outage windows) only takes effect when the
 * worker has a limiter, so it gets one far above any real rate.
 */
export async function startQueueWorker<D extends AnyJobData, R extends DrawingResult | CmeResult>(
  options: QueueWorkerOptions<D, R>,
): Promise<QueueWorker> {
  const logger = options.logger.child({ queue: options.name });
  const queue = new Queue(options.name, {
    connection: options.connection,
    prefix: options.prefix,
    defaultJobOptions: defaultJobOptions(options.name, options.retention),
  });
  const halt = new QueueHalt({
    queue,
    redis: options.connection,
    prefix: options.prefix,
    logger,
    credentials: options.credentials,
  });
  await halt.resumeIfCredentialsChanged();

  const processor = createJobProcessor(options.processor(queue), {
    queue,
    settlement: options.settlement,
    deadLetters: options.deadLetters,
    halt,
    logger,
    throttleMs: options.throttleMs,
    recentErrors: new RecentErrors(options.connection, options.prefix),
    ...(options.onStep ? { onStep: options.onStep } : {}),
  });
  const worker = new Worker<D, R>(options.name, processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    limiter: { max: LIMITER_MAX, duration: 1000 },
    maxStalledCount: 10,
    // After a manual rate limit ends BullMQ may sit in a blocking wait for the full drain delay
    // (5 s by default) before it looks again: keep that wait short.
    drainDelay: 1,
    settings: { backoffStrategy: options.backoffStrategy },
    // Per-minute completed/failed counts for the dashboard's rates (one day kept).
    metrics: { maxDataPoints: 24 * 60 },
    ...options.workerOptions,
  });
  worker.on('error', (err) => logger.error({ err }, 'worker error'));
  await worker.waitUntilReady();
  return { name: options.name, queue, worker: worker as unknown as Worker, halt };
}
