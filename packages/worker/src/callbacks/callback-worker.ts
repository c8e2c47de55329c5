import {
  type AtelierConfig,
  type CallbackJobData,
  ConfigError,
  defaultJobOptions,
  type HostResolver,
  type Logger,
  QUEUE_NAMES,
} from '@atelier/shared';
import { JobFence, type RedisClient } from '@atelier/store';
import { Queue, Worker, type WorkerOptions } from 'bullmq';
import { createBackoffStrategy } from '../runtime/backoff.ts';
import { redisErrorListener } from '../runtime/redis-error-listener.ts';
import { StepRunner } from '../runtime/step-runner.ts';
import { createCallbackHttp } from './callback-http.ts';
import { CallbackProcessor, type CallbackResult, callbackEventOf } from './callback-processor.ts';
import { type CallbackDeliveryInfo, reportDelivery } from './delivery-report.ts';
import { createGuardedLookup } from './guarded-lookup.ts';

export interface CallbackWorkerOptions {
  connection: RedisClient;
  prefix: string;
  /** Reads `callbacks` (secret, allowPrivateUrls, timeoutMs), `retry` and `retention`. */
  config: AtelierConfig;
  logger: Logger;
  /** Observes every attempt (metrics). */
  onDelivery?: (info: CallbackDeliveryInfo) => void;
  /** Replaces DNS resolution for the URL check and the connection (tests). */
  resolve?: HostResolver;
  /** Tests shorten lock and stall timings. */
  workerOptions?: Partial<WorkerOptions>;
}

export interface CallbackWorker {
  readonly worker: Worker<CallbackJobData, CallbackResult>;
  /** The `callbacks` queue with its default job options (12 attempts, `atelier` backoff). */
  readonly queue: Queue<CallbackJobData>;
  close(): Promise<void>;
}

/** Deliveries in flight at once per process. */
export const CALLBACK_CONCURRENCY = 20;

/**
 * Runs the `callbacks` queue: signed POSTs of job and batch outcomes to the callers' URLs.
 * A delivery that runs out of attempts stays in the queue's failed set (logged at error);
 * it never touches the job it reports on.
 */
export async function startCallbackWorker(options: CallbackWorkerOptions): Promise<CallbackWorker> {
  const { config, connection, prefix } = options;
  const secret = config.callbacks.secret;
  if (secret === undefined) {
    throw new ConfigError('ATELIER_CALLBACK_SECRET', 'is required to deliver callbacks');
  }
  const logger = options.logger.child({ queue: QUEUE_NAMES.callbacks });
  const http = createCallbackHttp({
    timeoutMs: config.callbacks.timeoutMs,
    lookup: createGuardedLookup({
      allowPrivate: config.callbacks.allowPrivateUrls,
      ...(options.resolve ? { resolve: options.resolve } : {}),
    }),
  });
  const queue = new Queue<CallbackJobData>(QUEUE_NAMES.callbacks, {
    connection,
    prefix,
    defaultJobOptions: defaultJobOptions(QUEUE_NAMES.callbacks, config.retention),
  });
  queue.on('error', redisErrorListener(logger, 'callback queue error'));
  const runner = new StepRunner<CallbackJobData, CallbackResult>({
    queue,
    logger,
    fence: new JobFence(connection, prefix),
    processor: new CallbackProcessor({
      secret,
      http,
      allowPrivate: config.callbacks.allowPrivateUrls,
      ...(options.resolve ? { resolve: options.resolve } : {}),
    }),
    logBindings: (job) => ({
      deliveryId: job.id,
      event: callbackEventOf(job),
      attempt: job.attemptsMade + 1,
    }),
    report: reportDelivery(options.onDelivery),
  });
  const worker = new Worker<CallbackJobData, CallbackResult>(
    QUEUE_NAMES.callbacks,
    // A delivery never takes the runner's `cancelled` end (it has no submit to refuse).
    (job, token, signal) => runner.run(job, token, signal) as Promise<CallbackResult>,
    {
      connection,
      prefix,
      concurrency: CALLBACK_CONCURRENCY,
      settings: {
        backoffStrategy: createBackoffStrategy({
          baseMs: config.retry.baseMs,
          maxMs: config.retry.maxMs,
        }),
      },
      ...options.workerOptions,
    },
  );
  worker.on('error', redisErrorListener(logger, 'callback worker error', 'error'));

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await worker.close();
      await queue.close();
      http.close();
    })();
    return closing;
  };
  try {
    await worker.waitUntilReady();
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  return { worker, queue, close };
}
