/**
 * Parses the `[CODE] message` form the worker's job runner gives failed jobs (a copy of the
 * worker's `parseFailedReason`: the producer may not import the worker).
 */
export function parseFailedReason(reason: string | undefined): { code: string; message: string } {
  const match = /^\[([^\]]+)\] ([\s\S]*)$/.exec(reason ?? '');
  if (match?.[1] !== undefined) return { code: match[1], message: match[2] ?? '' };
  return { code: 'FAILED', message: reason ?? 'failed' };
}
