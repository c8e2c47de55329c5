import {
  type AtelierConfig,
  DEFAULT_PRIORITY,
  type DrawingJobData,
  type DrawingResult,
  type DrawingTask,
  defaultJobOptions,
  jobIdFor,
  loadConfig,
  QUEUE_NAMES,
  toBullmqPriority,
} from '@atelier/shared';
import { DrawingSimulator, type DrawingSimulatorOptions } from '@atelier/simulator';
import { BatchLedger, DeadLetterStore } from '@atelier/store';
import { AtelierWorker } from '@atelier/worker';
import { type Job, Queue, type WorkerOptions } from 'bullmq';
import { captureLogger } from './capture-logger.ts';
import type { RedisTestContext } from './redis-context.ts';
import { waitFor } from './wait-for.ts';

export interface DrawingStackOptions {
  simulator?: DrawingSimulatorOptions;
  /** Environment on top of the test defaults (fast polls and retries, auth none). */
  env?: Record<string, string>;
  workerOptions?: Partial<WorkerOptions>;
  /** How often workers write the time series (default: the worker's, 5 s). */
  statsFlushMs?: number;
}

export const TASK: DrawingTask = {
  text: '一只猫 in the rain',
  style: '油画',
  resolution: '1024*1024',
  num: 1,
};

/**
 * Simulator + Redis prefix + worker(s) + a queue handle, for drawing end-to-end tests.
 * Everything is closed by the test context's cleanup.
 */
export class DrawingStack {
  readonly sim: DrawingSimulator;
  readonly env: Record<string, string>;
  readonly config: AtelierConfig;
  readonly queue: Queue<DrawingJobData, DrawingResult>;
  readonly deadLetters: DeadLetterStore;
  readonly batches: BatchLedger;
  readonly logs = captureLogger();
  readonly #ctx: RedisTestContext;
  readonly #options: DrawingStackOptions;

  private constructor(ctx: RedisTestContext, sim: DrawingSimulator, options: DrawingStackOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.sim = sim;
    const prefix = ctx.prefix('drw');
    this.env = {
      REDIS_URL: ctx.url,
      ATELIER_QUEUE_PREFIX: prefix,
      ATELIER_WORKER_QUEUES: 'drawing',
      DRAWING_BASE_URL: sim.url,
      DRAWING_SUBMIT_PATH: sim.submitPath,
      DRAWING_QUERY_PATH: sim.queryPath,
      DRAWING_AUTH_MODE: 'none',
      DRAWING_POLL_FIRST_MS: '0',
      DRAWING_POLL_INTERVAL_MS: '100',
      DRAWING_POLL_MAX_INTERVAL_MS: '200',
      DRAWING_REQUEST_TIMEOUT_MS: '10000',
      ATELIER_RETRY_BASE_MS: '20',
      ATELIER_RETRY_MAX_MS: '200',
      DRAWING_THROTTLE_MS: '200',
      DRAWING_MAINTENANCE_BACKOFF_MS: '300',
      ...options.env,
    };
    this.config = loadConfig(this.env, 'worker');
    const connection = ctx.connection();
    this.queue = new Queue(QUEUE_NAMES.drawing, { connection, prefix });
    // Tests that take Redis away see its reconnects here too (unheard, BullMQ prints each).
    this.queue.on('error', () => undefined);
    ctx.onCleanup(() => this.queue.close());
    this.deadLetters = new DeadLetterStore(connection, prefix);
    this.batches = new BatchLedger(connection, prefix);
  }

  static async start(
    ctx: RedisTestContext,
    options: DrawingStackOptions = {},
  ): Promise<DrawingStack> {
    const sim = await DrawingSimulator.start({
      duration: { kind: 'fixed', ms: 0 },
      perExtraImageMs: 0,
      ...options.simulator,
    });
    ctx.onCleanup(() => sim.close());
    return new DrawingStack(ctx, sim, options);
  }

  get prefix(): string {
    return this.config.queuePrefix;
  }

  /** Starts an in-process worker (closed at cleanup). */
  async startWorker(overrides: Partial<WorkerOptions> = {}): Promise<AtelierWorker> {
    const worker = await AtelierWorker.start({
      config: this.config,
      logger: this.logs.logger,
      workerOptions: { ...this.#options.workerOptions, ...overrides },
      ...(this.#options.statsFlushMs !== undefined
        ? { statsFlushMs: this.#options.statsFlushMs }
        : {}),
    });
    this.#ctx.onCleanup(() => worker.close(0));
    return worker;
  }

  /** Adds a drawing job exactly as the producer does. */
  async enqueue(task: Partial<DrawingTask> = {}, key?: string): Promise<string> {
    const id = jobIdFor('drawing', key);
    await this.queue.add(
      'drawing',
      { kind: 'drawing', task: { ...TASK, ...task }, meta: { enqueuedAt: Date.now() } },
      {
        ...defaultJobOptions('drawing'),
        jobId: id,
        priority: toBullmqPriority(DEFAULT_PRIORITY.single),
      },
    );
    return id;
  }

  /** A one-item batch (its ledger record) and its job, as the producer adds them. */
  async enqueueBatchItem(
    task: Partial<DrawingTask>,
    options: { batchId: string; callbackUrl?: string },
  ): Promise<string> {
    const { batchId, callbackUrl } = options;
    await this.batches.create(batchId, 1);
    await this.batches.markEnqueued(batchId, 1);
    const id = jobIdFor('drawing', `${batchId}~0`);
    await this.queue.add(
      'drawing',
      {
        kind: 'drawing',
        task: { ...TASK, ...task },
        meta: {
          enqueuedAt: Date.now(),
          batchId,
          batchIndex: 0,
          ...(callbackUrl ? { callbackUrl } : {}),
        },
      },
      {
        ...defaultJobOptions('drawing'),
        jobId: id,
        priority: toBullmqPriority(DEFAULT_PRIORITY.batchItem),
      },
    );
    return id;
  }

  async job(id: string): Promise<Job<DrawingJobData, DrawingResult> | undefined> {
    return this.queue.getJob(id);
  }

  /** Waits until the job is completed (returns it) — fails fast if it was dead-lettered. */
  async completed(id: string, timeoutMs = 15_000): Promise<Job<DrawingJobData, DrawingResult>> {
    return waitFor(
      async () => {
        const dead = await this.deadLetters.get(id);
        if (dead) throw new Error(`job ${id} was dead-lettered: ${dead.code} ${dead.message}`);
        const job = await this.job(id);
        // Read again once completed: the first read may predate the result.
        return (await job?.isCompleted()) ? await this.queue.getJob(id) : undefined;
      },
      { timeoutMs, what: `job ${id} to complete` },
    );
  }

  /** Waits until the job is in the dead-letter queue AND failed in BullMQ. */
  async dead(id: string, timeoutMs = 15_000) {
    return waitFor(
      async () => {
        const entry = await this.deadLetters.get(id);
        const job = await this.job(id);
        return entry && (await job?.isFailed()) ? entry : undefined;
      },
      { timeoutMs, what: `job ${id} to be dead-lettered` },
    );
  }
}
