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
import type { FairAdmission } from './fair-admission.ts';
import { cmeJobData, drawingJobData, jobMeta } from './job-data.ts';
import type { ProducerQueues } from './producer-queues.ts';
import type { RedisGuard } from './redis-guard.ts';
import type { UsageReservations } from './usage-reservations.ts';

/** What an enqueue call did: the job's id, and whether this call created it. */
export interface EnqueueResult {
  id: string;
  /** False when the idempotency key named a job that already exists (nothing was added). */
  created: boolean;
  /** Images this call counted on its tenant's day (0 when nothing was added, and for CME). */
  images: number;
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
  readonly reservations: UsageReservations;
  readonly fair: FairAdmission;
}

/**
 * Validates and enqueues one drawing or CME operation. Every job gets its id before anything is
 * sent (a random one without a key): an add that Redis does not confirm fails with
 * `REDIS_UNAVAILABLE` naming that id (`details: {outcome: 'unknown', id}`), since it may still
 * land. An idempotency key becomes the job id (per tenant: `jobIdFor`);
 * when a job (or a dead letter) with that id exists, nothing is added and the same id comes
 * back with `created: false`. Two identical keyed requests racing each other may both say
 * `created: true`, but BullMQ still keeps a single job.
 *
 * Before the add, the job's images are reserved on its tenant's UTC day (`QUOTA_EXCEEDED` past
 * its quota: nothing added) and, with fair share, the job may be added parked to wait for its
 * tenant's turn (`FairAdmission`).
 */
export class SingleEnqueuer {
  readonly #o: SingleEnqueuerOptions;
  readonly #drawingSchema: ReturnType<typeof drawingRequestSchema>;

  constructor(options: SingleEnqueuerOptions) {
    this.#o = options;
    this.#drawingSchema = drawingRequestSchema(options.limits);
  }

  async drawing(input: DrawingRequest, tenant: string): Promise<EnqueueResult> {
    const request = validate(this.#drawingSchema, input);
    const images = request.num;
    return this.#enqueue('drawing', tenant, images, request, (meta) =>
      drawingJobData(request, meta),
    );
  }

  async cme(input: CmeOperationRequest, tenant: string): Promise<EnqueueResult> {
    const request = parseCmeOperationRequest(input);
    return this.#enqueue('cme', tenant, 0, request, (meta) => cmeJobData(request, meta));
  }

  /**
   * Both kinds, once the request is valid: callback check, idempotency, the reservation, the
   * turn (fair share), then the job.
   */
  async #enqueue(
    kind: JobKind,
    tenant: string,
    images: number,
    request: EnqueueRequest,
    jobData: (meta: JobMeta) => DrawingJobData | CmeJobData,
  ): Promise<EnqueueResult> {
    const { queues, guard, reservations, fair } = this.#o;
    if (request.callbackUrl !== undefined) await this.#o.callbacks.check(request.callbackUrl);
    const id = jobIdFor(kind, request.idempotencyKey, tenant);
    if (request.idempotencyKey !== undefined && (await this.#exists(kind, id))) {
      return { id, created: false, images: 0 };
    }
    const work = { kind: 'job' as const, queue: kind, id, tenant, images, jobs: 1 };
    // A tenant with a quota reserves first (refused whole past it); one without counts after.
    const reservation = reservations.limited(tenant) ? await reservations.reserve(work) : undefined;
    const day = reservation?.day ?? reservations.today();
    let sent = false;
    try {
      const data = jobData(jobMeta({ ...request, tenant, usageDay: day }));
      const priority = toBullmqPriority(request.priority ?? DEFAULT_PRIORITY.single);
      const direct = await fair.route(kind, tenant, priority, 1, { kind: 'job', id });
      const options = queues.jobOptions(kind, id, priority, direct === 0);
      await guard.run(() => {
        sent = true;
        return queues.add(data, options);
      });
    } catch (error) {
      // The add was sent and not confirmed: it may land after this answer. Say which job (its
      // reservation is settled by the sweep, once the add has landed or never will).
      if (error instanceof RedisUnavailableError && sent && error.sent) {
        throw RedisUnavailableError.outcomeUnknown('job', id, error);
      }
      if (reservation) await reservations.cancel(reservation);
      throw error;
    }
    if (reservation) await reservations.confirm(reservation);
    else reservations.count(work, day);
    return { id, created: true, images };
  }

  /** A job with this id exists, or its dead letter does (the job itself may be gone): one read. */
  async #exists(kind: JobKind, id: string): Promise<boolean> {
    const { guard, snapshots, queues } = this.#o;
    return guard.run(() => snapshots.known(queues.forKind(kind), id));
  }
}
