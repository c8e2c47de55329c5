import type { DrawingJobData, DrawingJobState, Logger } from '@atelier/shared';
import type { JobFence } from '@atelier/store';
import type { JournalEntry } from './submit-journal.ts';

export interface JournalApplyDeps {
  fence: JobFence;
  /** BullMQ's hash key of a drawing job. */
  jobKey: (jobId: string) => string;
  logger: Logger;
}

/** Attempts per entry when the job changes between the read and the write. */
const TRIES = 5;

/**
 * Hands the taskIds of a journal to their jobs, at start-up, before the worker takes any job:
 * a job that has no taskId and has not finished gets the journal's (with its `submittedAt`,
 * its submit intent cleared), by compare-and-set, so its next run polls that task instead of
 * paying for another. A job that already has a taskId, or was removed, is left alone; one that
 * finished without this taskId (dead-lettered meanwhile) is logged: its task may be orphaned.
 * Returns how many jobs got their taskId.
 */
export async function applySubmitJournal(
  entries: readonly JournalEntry[],
  deps: JournalApplyDeps,
): Promise<number> {
  // The last answer of a job is the one to keep (an earlier one was counted unconfirmed).
  const latest = new Map<string, JournalEntry>();
  for (const entry of entries) latest.set(entry.jobId, entry);
  let applied = 0;
  for (const entry of latest.values()) {
    if (await applyOne(entry, deps)) applied++;
  }
  return applied;
}

async function applyOne(entry: JournalEntry, deps: JournalApplyDeps): Promise<boolean> {
  const { fence, logger } = deps;
  const jobKey = deps.jobKey(entry.jobId);
  const { jobId, taskId } = entry;
  for (let tries = 0; tries < TRIES; tries++) {
    const stored = await fence.read(jobKey);
    if (!stored) return false;
    const data = JSON.parse(stored.data) as DrawingJobData;
    const known = data.state?.taskId;
    if (known !== undefined) {
      if (known !== taskId) {
        logger.warn(
          { jobId, taskId, jobTaskId: known },
          'submit journal: the job holds another taskId; the provider task of this one may be orphaned',
        );
      }
      return false;
    }
    if (stored.finished) {
      logger.warn(
        { jobId, taskId },
        'submit journal: the job ended without this taskId; the provider task may be orphaned',
      );
      return false;
    }
    const state: DrawingJobState = {
      ...data.state,
      polls: data.state?.polls ?? 0,
      taskId,
      submittedAt: entry.submittedAt,
    };
    delete state.submitIntentAt;
    if (await fence.replace(jobKey, stored.data, JSON.stringify({ ...data, state }))) {
      logger.info({ jobId, taskId }, 'submit journal: taskId handed to its job');
      return true;
    }
  }
  logger.warn({ jobId, taskId }, 'submit journal: the job kept changing; taskId not applied');
  return false;
}
