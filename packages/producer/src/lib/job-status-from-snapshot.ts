import {
  type AttemptRecord,
  type DrawingJobState,
  type JobCancelled,
  type JobKind,
  parseFailedReason,
} from '@atelier/shared';
import type { JobRecord, JobSnapshotView } from '@atelier/store';
import {
  isTerminalState,
  type JobState,
  type JobStatus,
  type TerminalJobState,
} from './job-status.ts';

/**
 * What each terminal state must carry to be answered. A terminal state is never answered
 * without its outcome: a client may stop polling there. (BullMQ records a job's state and its
 * outcome in one script, so one snapshot has both; a snapshot that had one without the other
 * would answer `running`, the worker still recording the outcome.) A new terminal state, or a
 * new part of an outcome (`result.archived` once images are archived), is one more line here.
 */
const OUTCOME_PRESENT: Record<TerminalJobState, (status: JobStatus) => boolean> = {
  completed: (status) => status.result !== undefined && status.result !== null,
  dead: (status) => status.error !== undefined,
  cancelled: (status) => status.error?.code === CANCELLED_CODE,
};

/** The error code of a cancelled job's outcome. */
export const CANCELLED_CODE = 'CANCELLED';

/**
 * A job's status from one snapshot (`JobSnapshot.read`), in the HTTP contract's words;
 * `undefined` when there is no such job. Pure: everything it says comes from that one read.
 *
 * The dead letter decides first (`dead` even when retention removed the BullMQ job) — unless
 * it is a filing from before a replay that has not removed it yet (the job was replayed since:
 * its data counts more replays), as the worker's step runner decides. Then a cancel that ended
 * the job (its record, written with its batch item, before BullMQ records the end). Otherwise
 * BullMQ's state and the job data decide: a drawing with a taskId that is not finished is
 * `polling`.
 */
export function jobStatusFromSnapshot(
  id: string,
  kind: JobKind,
  snapshot: JobSnapshotView,
): JobStatus | undefined {
  const { state, job, deadLetter } = snapshot;
  if (deadLetter && isCurrentFiling(deadLetter.meta.replays, job)) {
    const { attempts, code, message } = deadLetter;
    return { id, kind, state: 'dead', attempts, error: { code, message } };
  }
  if (!job || state === 'unknown') return undefined;
  if (job.cancelled) {
    const attempts = job.attemptsMade;
    return answerable({ id, kind, state: 'cancelled', attempts, error: cancelled(job.cancelled) });
  }

  const status: JobStatus = { id, kind, state: 'queued', attempts: job.attemptsMade };
  switch (state) {
    case 'completed':
      return answerable(withResult({ ...status, state: 'completed' }, job));
    case 'failed':
      return answerable({ ...status, state: 'dead', error: parseFailedReason(job.failedReason) });
    case 'active':
      return { ...status, state: 'running' };
    default:
      return withWaitingState(status, job);
  }
}

/** A cancelled job's outcome, in the words of `error`. */
function cancelled(record: JobCancelled): { code: string; message: string } {
  const who = record.by === 'batch' ? 'its batch was cancelled' : 'it was cancelled';
  const at = new Date(record.cancelledAt).toISOString();
  return {
    code: CANCELLED_CODE,
    message: `${who} (${at}) before it was submitted: nothing was paid`,
  };
}

/** A dead letter is current unless the job was replayed after it was filed. */
function isCurrentFiling(filedReplays: number | undefined, job: JobRecord | undefined): boolean {
  return (filedReplays ?? 0) >= (job?.data?.meta?.replays ?? 0);
}

function withResult(status: JobStatus, job: JobRecord): JobStatus {
  return job.returnvalue === undefined ? status : { ...status, result: job.returnvalue };
}

/** The status itself, or — a terminal state without its outcome — `running`. */
function answerable(status: JobStatus): JobStatus {
  if (!isTerminalState(status.state) || OUTCOME_PRESENT[status.state](status)) return status;
  const { result: _result, error: _error, ...rest } = status;
  return { ...rest, state: 'running' };
}

/** A job that is not running: polling, retrying or queued, from its data. */
function withWaitingState(status: JobStatus, job: JobRecord): JobStatus {
  const data = job.data;
  const history = data?.history ?? [];
  const last = history.at(-1);
  let state: JobState = 'queued';
  if (data?.kind === 'drawing' && data.state?.taskId && !archiveFailed(data.state, last)) {
    state = 'polling';
  } else if (job.attemptsMade > 0 || history.length > 0) state = 'retrying';
  if (state === 'retrying' && last) {
    return { ...status, state, error: { code: last.code, message: last.message } };
  }
  return { ...status, state };
}

/** A finished drawing backing off after its images could not be archived (not polling). */
function archiveFailed(state: DrawingJobState, last: AttemptRecord | undefined): boolean {
  return state.finished !== undefined && last?.code === 'IMAGE_ARCHIVE_FAILED';
}
