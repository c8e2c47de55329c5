import { kindOfJobId } from '@atelier/shared';
import type { JobSnapshot } from '@atelier/store';
import { NotFoundError } from './errors/not-found-error.ts';
import type { JobStatus } from './job-status.ts';
import { jobStatusFromSnapshot } from './job-status-from-snapshot.ts';
import type { ProducerQueues } from './producer-queues.ts';
import type { RedisGuard } from './redis-guard.ts';

export interface JobStatusReaderOptions {
  readonly queues: ProducerQueues;
  readonly snapshots: JobSnapshot;
  readonly guard: RedisGuard;
}

/**
 * Reads a job's status — for the API, the CLI and the dashboard alike — from one snapshot:
 * its BullMQ state, its hash and its dead letter in one script (`JobSnapshot`), so a job that
 * finishes meanwhile is answered as it was before or after, never half of each.
 */
export class JobStatusReader {
  readonly #o: JobStatusReaderOptions;

  constructor(options: JobStatusReaderOptions) {
    this.#o = options;
  }

  async get(id: string): Promise<JobStatus> {
    const kind = kindOfJobId(id);
    if (kind === undefined) throw new NotFoundError('job', id);
    const { guard, snapshots, queues } = this.#o;
    const snapshot = await guard.run(() => snapshots.read(queues.forKind(kind), id));
    const status = jobStatusFromSnapshot(id, kind, snapshot);
    if (!status) throw new NotFoundError('job', id);
    return status;
  }
}
