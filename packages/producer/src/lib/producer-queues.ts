import {
  type AnyJobData,
  type AnyJobResult,
  type CallbackJobData,
  type CmeJobData,
  type CmeResult,
  type DrawingJobData,
  type DrawingResult,
  defaultJobOptions,
  type JobKind,
  type Logger,
  QUEUE_NAMES,
  type RetentionOptions,
} from '@atelier/shared';
import { PARK_DELAY_MS, type RedisClient } from '@atelier/store';
import { type Job, type JobsOptions, Queue } from 'bullmq';

export type DrawingQueue = Queue<DrawingJobData, DrawingResult>;
export type CmeQueue = Queue<CmeJobData, CmeResult>;

/**
 * The producer's handles on the drawing and CME queues, with the shared default job options.
 * A queue's defaults only apply to jobs that queue object adds, so `jobOptions` also puts
 * them on every job explicitly (other processes may add with bare queues).
 */
export class ProducerQueues {
  readonly drawing: DrawingQueue;
  readonly cme: CmeQueue;
  /** Where deliveries go when a batch finishes in this process (the worker sends them). */
  readonly callbacks: Queue<CallbackJobData>;
  readonly #retention: RetentionOptions;

  constructor(
    connection: RedisClient,
    prefix: string,
    retention: RetentionOptions,
    logger: Logger,
  ) {
    this.#retention = retention;
    const common = { connection, prefix };
    this.drawing = new Queue<DrawingJobData, DrawingResult>(QUEUE_NAMES.drawing, {
      ...common,
      defaultJobOptions: defaultJobOptions(QUEUE_NAMES.drawing, retention),
    });
    this.cme = new Queue<CmeJobData, CmeResult>(QUEUE_NAMES.cme, {
      ...common,
      defaultJobOptions: defaultJobOptions(QUEUE_NAMES.cme, retention),
    });
    this.callbacks = new Queue<CallbackJobData>(QUEUE_NAMES.callbacks, {
      ...common,
      defaultJobOptions: defaultJobOptions(QUEUE_NAMES.callbacks, retention),
    });
    for (const queue of [...this.all(), this.callbacks]) {
      queue.on('error', (err) => logger.warn({ err, queue: queue.name }, 'queue error'));
    }
  }

  all(): Array<DrawingQueue | CmeQueue> {
    return [this.drawing, this.cme];
  }

  forKind(kind: JobKind): DrawingQueue | CmeQueue {
    return kind === 'drawing' ? this.drawing : this.cme;
  }

  /** The BullMQ job with this id in the kind's queue, if it exists. */
  async getJob(kind: JobKind, id: string): Promise<Job<AnyJobData, AnyJobResult> | undefined> {
    const queue: Queue = this.forKind(kind);
    return (await queue.getJob(id)) as Job<AnyJobData, AnyJobResult> | undefined;
  }

  /** Adds a job to its kind's queue (a CME job is named after its action). */
  async add(data: DrawingJobData | CmeJobData, options: JobsOptions): Promise<void> {
    if (data.kind === 'drawing') await this.drawing.add('drawing', data, options);
    else await this.cme.add(data.operation.action, data, options);
  }

  /**
   * Default options of the kind's queue plus the job's own id and priority; `parked`: added
   * delayed far out, to wait for its tenant's turn (fair share: a dispatcher promotes it).
   */
  jobOptions(kind: JobKind, jobId: string, bullmqPriority: number, parked = false): JobsOptions {
    return {
      ...defaultJobOptions(QUEUE_NAMES[kind], this.#retention),
      jobId,
      priority: bullmqPriority,
      ...(parked ? { delay: PARK_DELAY_MS } : {}),
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.all(), this.callbacks].map((q) => q.close()));
  }
}
