import {
  type AnyJobData,
  type AnyJobResult,
  kindOfJobId,
  parseFailedReason,
} from '@atelier/shared';
import type { DeadLetterStore } from '@atelier/store';
import type { Job } from 'bullmq';
import { NotFoundError } from './errors/not-found-error.ts';
import type { JobState, JobStatus } from './job-status.ts';
import type { ProducerQueues } from './producer-queues.ts';
import type { RedisGuard } from './redis-guard.ts';

export interface JobStatusReaderOptions {
  readonly queues: ProducerQueues;
  readonly deadLetters: DeadLetterStore;
  readonly guard: RedisGuard;
}

/**
 * Reads a job's status. The dead-letter queue is asked first: an entry means `dead` even when
 * retention already removed the BullMQ job. Otherwise the BullMQ state and the job data
 * decide (a drawing with a taskId that is not finished is `polling`).
 */
export class JobStatusReader {
  readonly #o: JobStatusReaderOptions;

  constructor(options: JobStatusReaderOptions) {
    this.#o = options;
  }

  async get(id: string): Promise<JobStatus> {
    const kind = kindOfJobId(id);
    if (kind === undefined) throw new NotFoundError('job', id);
    const { guard, deadLetters, queues } = this.#o;
    const [entry, job] = await guard.run(() =>
      Promise.all([deadLetters.get(id), queues.getJob(kind, id)]),
    );
    if (entry) {
      return {
        id,
        kind,
        state: 'dead',
        attempts: entry.attempts,
        error: { code: entry.code, message: entry.message },
      };
    }
    if (!job) throw new NotFoundError('job', id);
    const bullState = await guard.run(() => job.getState());
    if (bullState === 'unknown') throw new NotFoundError('job', id);

    const status: JobStatus = { id, kind, state: 'queued', attempts: job.attemptsMade };
    switch (bullState) {
      case 'completed':
        return { ...status, state: 'completed', result: job.returnvalue };
      case 'failed':
        return { ...status, state: 'dead', error: parseFailedReason(job.failedReason) };
      case 'active':
        return { ...status, state: 'running' };
      default:
        return withWaitingState(status, job);
    }
  }
}

/** A job that is not running: polling, retrying or queued, from its data. */
function withWaitingState(status: JobStatus, job: Job<AnyJobData, AnyJobResult>): JobStatus {
  const data = job.data;
  const history = data?.history ?? [];
  let state: JobState = 'queued';
  if (data?.kind === 'drawing' && data.state?.taskId) state = 'polling';
  else if (job.attemptsMade > 0 || history.length > 0) state = 'retrying';
  const last = history.at(-1);
  if (state === 'retrying' && last) {
    return { ...status, state, error: { code: last.code, message: last.message } };
  }
  return { ...status, state };
}
