import { randomBytes } from 'node:crypto';
import {
  type AtelierConfig,
  type CmeAction,
  type CmeJobData,
  type CmeResult,
  DEFAULT_PRIORITY,
  defaultJobOptions,
  jobIdFor,
  loadConfig,
  QUEUE_NAMES,
  toBullmqPriority,
} from '@atelier/shared';
import { CmeSimulator, type CmeSimulatorOptions } from '@atelier/simulator';
import { DeadLetterStore } from '@atelier/store';
import { AtelierWorker } from '@atelier/worker';
import { type Job, Queue, type WorkerOptions } from 'bullmq';
import { captureLogger } from './capture-logger.ts';
import type { RedisTestContext } from './redis-context.ts';
import { waitFor } from './wait-for.ts';

export const CME_PLATFORM = '1000000009';

/** CME simulator + Redis prefix + worker(s) + a queue handle, for CME end-to-end tests. */
export class CmeStack {
  readonly sim: CmeSimulator;
  readonly secretKey: string;
  readonly env: Record<string, string>;
  readonly config: AtelierConfig;
  readonly queue: Queue<CmeJobData, CmeResult>;
  readonly deadLetters: DeadLetterStore;
  readonly logs = captureLogger();
  readonly #ctx: RedisTestContext;

  private constructor(
    ctx: RedisTestContext,
    sim: CmeSimulator,
    secretKey: string,
    env: Record<string, string>,
  ) {
    this.#ctx = ctx;
    this.sim = sim;
    this.secretKey = secretKey;
    const prefix = ctx.prefix('cme');
    this.env = {
      REDIS_URL: ctx.url,
      ATELIER_QUEUE_PREFIX: prefix,
      ATELIER_WORKER_QUEUES: 'cme',
      CME_LOGIN_URL: sim.loginUrl,
      CME_API_BASE_URL: sim.apiBaseUrl,
      CME_PLATFORM,
      CME_SECRET_ID: 'AKIDAtelierStack0123456789',
      CME_SECRET_KEY: secretKey,
      CME_RATE_LIMIT_PER_SEC: '100000',
      CME_CONCURRENCY: '25',
      ATELIER_RETRY_BASE_MS: '20',
      ATELIER_RETRY_MAX_MS: '200',
      ...env,
    };
    this.config = loadConfig(this.env, 'worker');
    const connection = ctx.connection();
    this.queue = new Queue(QUEUE_NAMES.cme, { connection, prefix });
    ctx.onCleanup(() => this.queue.close());
    this.deadLetters = new DeadLetterStore(connection, prefix);
  }

  static async start(
    ctx: RedisTestContext,
    options: { simulator?: Partial<CmeSimulatorOptions>; env?: Record<string, string> } = {},
  ): Promise<CmeStack> {
    const secretKey = `SecretKey${randomBytes(12).toString('hex')}`;
    const sim = await CmeSimulator.start({
      secretId: 'AKIDAtelierStack0123456789',
      secretKey,
      platform: CME_PLATFORM,
      ...options.simulator,
    });
    ctx.onCleanup(() => sim.close());
    return new CmeStack(ctx, sim, secretKey, options.env ?? {});
  }

  get prefix(): string {
    return this.config.queuePrefix;
  }

  async startWorker(workerOptions: Partial<WorkerOptions> = {}): Promise<AtelierWorker> {
    const worker = await AtelierWorker.start({
      config: this.config,
      logger: this.logs.logger,
      workerOptions,
    });
    this.#ctx.onCleanup(() => worker.close(0));
    return worker;
  }

  /** `count` PERSON materials of `userId` in the simulator. */
  seedMaterials(userId: string, count: number): string[] {
    const owner = { Type: 'PERSON' as const, Id: userId };
    return this.sim.seed({
      materials: Array.from({ length: count }, (_, i) => ({ owner, name: `material ${i}` })),
    }).materialIds;
  }

  /** Adds a CME job exactly as the producer does. */
  async enqueue(
    userId: string,
    action: CmeAction,
    params: Record<string, unknown>,
  ): Promise<string> {
    const id = jobIdFor('cme');
    await this.queue.add(
      action,
      { kind: 'cme', operation: { userId, action, params }, meta: { enqueuedAt: Date.now() } },
      {
        ...defaultJobOptions('cme'),
        jobId: id,
        priority: toBullmqPriority(DEFAULT_PRIORITY.single),
      },
    );
    return id;
  }

  async completed(id: string, timeoutMs = 20_000): Promise<Job<CmeJobData, CmeResult>> {
    return waitFor(
      async () => {
        const dead = await this.deadLetters.get(id);
        if (dead) throw new Error(`job ${id} was dead-lettered: ${dead.code} ${dead.message}`);
        const job = await this.queue.getJob(id);
        // Read again once completed: the first read may predate the result.
        return (await job?.isCompleted()) ? await this.queue.getJob(id) : undefined;
      },
      { timeoutMs, what: `CME job ${id} to complete` },
    );
  }

  async dead(id: string, timeoutMs = 20_000) {
    return waitFor(
      async () => {
        const entry = await this.deadLetters.get(id);
        const job = await this.queue.getJob(id);
        return entry && (await job?.isFailed()) ? entry : undefined;
      },
      { timeoutMs, what: `CME job ${id} to be dead-lettered` },
    );
  }
}
