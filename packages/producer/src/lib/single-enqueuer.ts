import {
  type CmeJobData,
  type CmeOperationRequest,
  DEFAULT_PRIORITY,
  type DrawingJobData,
  type DrawingLimits,
  type DrawingRequest,
  drawingRequestSchema,
  type JobKind,
  type JobMeta,
  jobIdFor,
  parseCmeOperationRequest,
  toBullmqPriority,
  validate,
} from '@atelier/shared';
import type { JobSnapshot } from '@atelier/store';
import type { CallbackPolicy } from './callback-policy.ts';
import { RedisUnavailableError } from './errors/redis-unavailable-error.ts';
import { cmeJobData, drawingJobData, jobMeta } from './job-data.ts';
import type { ProducerQueues } from './producer-queues.ts';
import type { RedisGuard } from './redis-guard.ts';

/** What an enqueue call did: the job's id, and whether this call created it. */
export interface EnqueueResult {
  id: string;
  /** False when the idempotency key named a job that already exists (nothing was added). */
  created: boolean;
}

/** What both kinds of validated request have in common. */
interface EnqueueRequest {
  readonly callbackUrl?: string;
  readonly idempotencyKey?: string;
  readonly priority?: number;
}

export interface SingleEnqueuerOptions {
  readonly queues: ProducerQueues;
  readonly guard: RedisGuard;
  readonly snapshots: JobSnapshot;
  readonly callbacks: CallbackPolicy;
  readonly limits: DrawingLimits;
}

/**
 * Validates and enqueues one drawing or CME operation. Every job gets its id before anything is
 * sent (a random one without a key): an add that Redis does not confirm fails with
 * `REDIS_UNAVAILABLE` naming that id (`details: {outcome: 'unknown', id}`), since it may still
 * land. An idempotency key becomes the job id;
 * when a job (or a dead letter) with that id exists, nothing is added and the same id comes
 * back with `created: false`. Two identical keyed requests racing each other may both say
 * `created: true`, but BullMQ still keeps a single job.
 */
export class SingleEnqueuer {
  readonly #o: SingleEnqueuerOptions;
  readonly #drawingSchema: ReturnType<typeof drawingRequestSchema>;

  constructor(options: SingleEnqueuerOptions) {
    this.#o = options;
    this.#drawingSchema = drawingRequestSchema(options.limits);
  }

  async drawing(input: DrawingRequest): Promise<EnqueueResult> {
    const request = validate(this.#drawingSchema, input);
    return this.#enqueue('drawing', request, (meta) => drawingJobData(request, meta));
  }

  async cme(input: CmeOperationRequest): Promise<EnqueueResult> {
    const request = parseCmeOperationRequest(input);
    return this.#enqueue('cme', request, (meta) => cmeJobData(request, meta));
  }

  /** Both kinds, once the request is valid: callback check, idempotency, then the job. */
  async #enqueue(
    kind: JobKind,
    request: EnqueueRequest,
    jobData: (meta: JobMeta) => DrawingJobData | CmeJobData,
  ): Promise<EnqueueResult> {
    if (request.callbackUrl !== undefined) await this.#o.callbacks.check(request.callbackUrl);
    const id = jobIdFor(kind, request.idempotencyKey);
    if (request.idempotencyKey !== undefined && (await this.#exists(kind, id))) {
      return { id, created: false };
    }
    const data = jobData(jobMeta(request));
    const priority = toBullmqPriority(request.priority ?? DEFAULT_PRIORITY.single);
    const options = this.#o.queues.jobOptions(kind, id, priority);
    try {
      await this.#o.guard.run(() => this.#o.queues.add(data, options));
    } catch (error) {
      // The add was sent and not confirmed: it may land after this answer. Say which job.
      if (error instanceof RedisUnavailableError && error.sent) {
        throw RedisUnavailableError.outcomeUnknown('job', id, error);
      }
      throw error;
    }
    return { id, created: true };
  }

  /** A job with this id exists, or its dead letter does (the job itself may be gone): one read. */
  async #exists(kind: JobKind, id: string): Promise<boolean> {
    const { guard, snapshots, queues } = this.#o;
    return guard.run(() => snapshots.known(queues.forKind(kind), id));
  }
}
