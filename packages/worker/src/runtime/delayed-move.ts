import type { Job } from 'bullmq';

interface DelayBackend {
  moveToDelayed(
    jobId: string,
    timestamp: number,
    delay: number,
    token: string,
    opts: { skipAttempt?: boolean; fieldsToUpdate?: Record<string, string> },
  ): Promise<unknown>;
}

/**
 * Saves new job data (and optionally priority) and moves the active job to the delayed set
 * in ONE Redis script, without consuming an attempt. BullMQ's `moveToDelayed` script accepts
 * fields to update, but `Job.moveToDelayed` does not expose them; we reach the backend (pinned
 * bullmq 6.x) and fall back to two calls when it is not there.
 */
export async function moveToDelayedWithData<D>(
  job: Job<D>,
  token: string,
  untilMs: number,
  data: D,
  priority?: number,
): Promise<void> {
  const now = Date.now();
  const delay = Math.max(0, untilMs - now);
  const fields: Record<string, string> = { data: JSON.stringify(data) };
  if (priority !== undefined) fields.priority = String(priority);
  // biome-ignore lint/suspicious/noExplicitAny: reaching the protected backend of a pinned BullMQ version.
  const backend = (job as any).backend as DelayBackend | undefined;
  if (backend && typeof backend.moveToDelayed === 'function' && job.id) {
    await backend.moveToDelayed(job.id, now, delay, token, {
      skipAttempt: true,
      fieldsToUpdate: fields,
    });
    job.data = data;
    job.delay = delay;
    if (priority !== undefined) job.priority = priority;
    return;
  }
  await job.updateData(data);
  if (priority !== undefined) await job.changePriority({ priority });
  await job.moveToDelayed(untilMs, token);
}
