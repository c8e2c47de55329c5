import {
  type AtelierConfig,
  type CallbackJobData,
  defaultJobOptions,
  type Logger,
  QUEUE_NAMES,
} from '@atelier/shared';
import {
  BatchLedger,
  CallbackScheduler,
  createRedisConnection,
  DeadLetterStore,
  ledgerRetention,
  type RedisClient,
} from '@atelier/store';
import { Queue, type WorkerOptions } from 'bullmq';
import { type CallbackWorker, startCallbackWorker } from './callbacks/callback-worker.ts';
import { CmeOperationRunner } from './cme/cme-operation-runner.ts';
import { createCmeProcessor } from './cme/cme-processor.ts';
import { DrawingClient } from './drawing/drawing-client.ts';
import { DrawingHealth } from './drawing/drawing-health.ts';
import { createDrawingProcessor, type DrawingProvider } from './drawing/drawing-processor.ts';
import { LearnedPollTiming } from './drawing/learned-poll-timing.ts';
import { createBackoffStrategy } from './runtime/backoff.ts';
import { DeadLetterReconciler } from './runtime/dead-letter-reconciler.ts';
import { JobSettlement } from './runtime/job-settlement.ts';
import { type QueueWorker, startQueueWorker } from './runtime/queue-worker.ts';
import type { StepEvent, WorkerObserver } from './worker-observer.ts';

export interface AtelierWorkerOptions {
  config: AtelierConfig;
  logger: Logger;
  /** Redis to use (else `config.redisUrl`). */
  redisUrl?: string;
  /** Replaces the drawing HTTP client (tests of processor logic). */
  drawingProvider?: DrawingProvider;
  /** Shorter lock/stall timings for failure tests. */
  workerOptions?: Partial<WorkerOptions>;
  /** Hears about calls, polls, refreshes, dead letters (metrics, benchmarks). */
  observer?: WorkerObserver;
}

/**
 * One worker process: a BullMQ worker per enabled queue (drawing, cme, callbacks), sharing a
 * Redis connection, the dead-letter store, the batch ledger and the callback queue.
 */
export class AtelierWorker {
  readonly queues: QueueWorker[] = [];
  reconciler: DeadLetterReconciler | undefined;
  callbacks: CallbackWorker | undefined;
  readonly #connection: RedisClient;
  readonly #logger: Logger;
  readonly #closers: Array<() => Promise<unknown>> = [];
  #closing: Promise<void> | undefined;

  private constructor(connection: RedisClient, logger: Logger) {
    this.#connection = connection;
    this.#logger = logger;
  }

  static async start(options: AtelierWorkerOptions): Promise<AtelierWorker> {
    const { config } = options;
    const url = options.redisUrl ?? config.redisUrl;
    if (!url) throw new Error('REDIS_URL is required to start a worker');
    const logger = options.logger;
    const connection = createRedisConnection({
      url,
      role: 'worker',
      connectionName: 'atelier-worker',
    });
    connection.on('error', (err) => logger.warn({ err }, 'redis connection error'));
    const self = new AtelierWorker(connection, logger);
    try {
      await self.#startQueues(options, connection);
    } catch (error) {
      await self.close();
      throw error;
    }
    return self;
  }

  async #startQueues(options: AtelierWorkerOptions, connection: RedisClient): Promise<void> {
    const { config, logger } = options;
    const observer = options.observer ?? {};
    const prefix = config.queuePrefix;
    const deadLetters = new DeadLetterStore(connection, prefix);
    const callbackQueue = config.callbacks.secret
      ? new Queue<CallbackJobData>(QUEUE_NAMES.callbacks, {
          connection,
          prefix,
          defaultJobOptions: defaultJobOptions(QUEUE_NAMES.callbacks, config.retention),
        })
      : undefined;
    if (callbackQueue) this.#closers.push(() => callbackQueue.close());
    else {
      logger.warn(
        { callbacks: 'disabled' },
        'CALLBACKS DISABLED: ATELIER_CALLBACK_SECRET is not set, so jobs that carry a callbackUrl ' +
          'finish without calling back (each one is logged); set the same secret as on the API',
      );
    }
    const batches = new BatchLedger(connection, prefix, ledgerRetention(config.retention));
    const settlement = new JobSettlement({
      deadLetters,
      batches,
      callbacks: new CallbackScheduler({
        queue: callbackQueue,
        logger,
        onUnsent: (event) => observer.callbackUnsent?.(event),
      }),
      logger,
      onDeadLetter: (entry) => observer.deadLetter?.(entry),
    });
    const backoffStrategy = createBackoffStrategy({
      baseMs: config.retry.baseMs,
      maxMs: config.retry.maxMs,
    });
    const common = {
      connection,
      prefix,
      settlement,
      deadLetters,
      backoffStrategy,
      retention: config.retention,
      onStep: (event: StepEvent) => observer.step?.(event),
      ...(options.workerOptions ? { workerOptions: options.workerOptions } : {}),
    };

    if (config.worker.queues.includes('drawing')) {
      const drawing = config.drawing;
      const queueLogger = logger.child({ queue: QUEUE_NAMES.drawing });
      const provider =
        options.drawingProvider ??
        DrawingClient.fromConfig(drawing, {
          logger: queueLogger,
          onCall: (call) => observer.drawingCall?.(call),
        });
      const timing = new LearnedPollTiming({
        redis: connection,
        prefix,
        defaultFirstMs: drawing.poll.firstMs,
        defaultGapMs: drawing.poll.intervalMs,
        ceilingMs: drawing.poll.deadlineMs,
      });
      this.#closers.push(() => timing.close());
      const started = await startQueueWorker({
        ...common,
        name: QUEUE_NAMES.drawing,
        concurrency: drawing.concurrency,
        logger,
        throttleMs: drawing.throttleMs,
        credentials: [
          drawing.authMode,
          drawing.appKey ?? '',
          drawing.appSecret?.reveal() ?? '',
          drawing.appCode?.reveal() ?? '',
        ],
        processor: (queue) =>
          createDrawingProcessor({
            provider,
            config: drawing,
            timing,
            onPoll: (event) => observer.drawingPoll?.(event),
            onFinished: (event) => observer.drawingFinished?.(event),
            health: new DrawingHealth({
              redis: connection,
              prefix,
              queue,
              logger: queueLogger,
              backoffMs: drawing.maintenanceBackoffMs,
              streak: drawing.outageStreak,
              onWindow: (open) => observer.outageWindow?.(open),
            }),
          }),
      });
      this.#adopt(started);
      if (provider instanceof DrawingClient) this.#closers.push(async () => provider.close());
    }

    if (config.worker.queues.includes('cme')) {
      const runner = new CmeOperationRunner({
        redis: connection,
        prefix,
        config: config.cme,
        logger: logger.child({ queue: QUEUE_NAMES.cme }),
        onCall: (event) => observer.cmeCall?.(event),
        onRefresh: (event) => observer.ticketRefresh?.(event),
      });
      this.#closers.push(async () => runner.close());
      this.#adopt(
        await startQueueWorker({
          ...common,
          name: QUEUE_NAMES.cme,
          concurrency: config.cme.concurrency,
          logger,
          throttleMs: 1000,
          credentials: [
            config.cme.platform ?? '',
            config.cme.secretId?.reveal() ?? '',
            config.cme.secretKey?.reveal() ?? '',
          ],
          processor: () => createCmeProcessor(runner),
        }),
      );
    }

    if (config.worker.queues.includes('callbacks') && config.callbacks.secret) {
      const callbacks = await startCallbackWorker({
        connection,
        prefix,
        config,
        logger: logger.child({ queue: QUEUE_NAMES.callbacks }),
        onDelivery: (info) => observer.callbackDelivery?.(info),
        ...(options.workerOptions ? { workerOptions: options.workerOptions } : {}),
      });
      // Not in `queues`: a failed delivery is not a dead job (the reconciler must not see it).
      this.callbacks = callbacks;
    }

    const reconciler = new DeadLetterReconciler({
      queues: this.queues.map((q) => q.queue),
      deadLetters,
      settlement,
      redis: connection,
      prefix,
      logger,
      deadLetterMaxAgeMs: config.retention.deadLetterAgeSec * 1000,
      batches,
      batchMaxAgeMs: config.retention.batchAgeSec * 1000,
    });
    this.reconciler = reconciler;
    reconciler.start(config.worker.reconcileIntervalMs);
  }

  #adopt(queueWorker: QueueWorker): void {
    this.queues.push(queueWorker);
  }

  /**
   * Stops taking work, lets active jobs finish for up to `graceMs`, then hands the rest back
   * (force close: their locks lapse and another worker picks them up) and closes connections.
   */
  async close(graceMs = 30_000): Promise<void> {
    this.#closing ??= this.#close(graceMs);
    return this.#closing;
  }

  async #close(graceMs: number): Promise<void> {
    await this.reconciler?.stop();
    const workers = [
      ...this.queues.map((q) => q.worker),
      ...(this.callbacks ? [this.callbacks.worker] : []),
    ];
    const graceful = Promise.all(workers.map((w) => w.close()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const result = await Promise.race([graceful.then(() => 'done' as const), timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.#logger.warn({ graceMs }, 'grace period over: handing active jobs back');
      // Abort the processors: the job runner moves each cancelled job back to wait.
      for (const worker of workers) worker.cancelAllJobs('shutdown: grace period over');
      let handed: NodeJS.Timeout | undefined;
      await Promise.race([
        graceful,
        new Promise((resolve) => {
          handed = setTimeout(resolve, 5000);
        }),
      ]);
      clearTimeout(handed);
      await Promise.all(workers.map((w) => w.close(true)));
    }
    await Promise.all(this.queues.map((q) => q.queue.close()));
    await this.callbacks?.close();
    for (const closer of this.#closers.splice(0).reverse()) await closer().catch(() => undefined);
    this.#connection.disconnect();
  }
}
