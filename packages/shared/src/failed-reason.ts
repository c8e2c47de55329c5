/** BullMQ's own failure reasons, as stable codes. */
const BULLMQ_REASONS: Array<[RegExp, string]> = [
  [/stalled more than allowable limit/i, 'STALLED_LIMIT'],
  [/started more than allowable limit/i, 'STARTED_LIMIT'],
];

/**
 * Parses the `[CODE] message` form the worker's job runner gives failed jobs back into its
 * parts; BullMQ's own reasons get stable codes. The worker files dead letters and the producer
 * answers job status with it, so a job says the same code before and after it is filed.
 */
export function parseFailedReason(reason: string | undefined): { code: string; message: string } {
  const match = /^\[([^\]]+)\] ([\s\S]*)$/.exec(reason ?? '');
  if (match?.[1] !== undefined) return { code: match[1], message: match[2] ?? '' };
  for (const [pattern, code] of BULLMQ_REASONS) {
    if (pattern.test(reason ?? '')) return { code, message: reason ?? '' };
  }
  return { code: 'FAILED', message: reason ?? 'failed' };
}
