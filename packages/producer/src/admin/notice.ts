/**
 * The confirmation line shown after an action redirected back to a page. The query only names
 * a fixed message and its values (escaped when rendered); it cannot carry free text.
 */
export function noticeFor(query: unknown): string | undefined {
  if (query === null || typeof query !== 'object') return undefined;
  const q = query as Record<string, unknown>;
  const value = (name: string) => (typeof q[name] === 'string' ? (q[name] as string) : '?');
  switch (q.notice) {
    case 'replayed':
      return `Dead letter ${value('id')} replayed: the job is queued again.`;
    case 'replayed-code':
      return `Replayed ${value('n')} dead letter(s) with code ${value('code')}.`;
    case 'deleted':
      return `Dead letter ${value('id')} deleted.`;
    case 'resumed':
      return `Queue ${value('queue')} resumed.`;
    case 'paused':
      return `Queue ${value('queue')} paused.`;
    case 'batch-cancelled':
      return `Batch ${value('id')} cancelled: nothing more of it is submitted; tasks already submitted finish.`;
    case 'batch-paused':
      return `Batch ${value('id')} paused: nothing new is submitted until it is resumed.`;
    case 'batch-resumed':
      return `Batch ${value('id')} resumed.`;
    case 'logged-out':
      return 'You are logged out.';
    default:
      return undefined;
  }
}

/** `path?notice=…&…` for a redirect after an action. */
export function withNotice(
  path: string,
  notice: string,
  values: Record<string, string> = {},
): string {
  const params = new URLSearchParams({ notice, ...values });
  return `${path}${path.includes('?') ? '&' : '?'}${params}`;
}
