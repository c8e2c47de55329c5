import type { DeadLetter } from '@atelier/shared';
import type { BatchItemResult } from '@atelier/store';

export const T0 = Date.parse('2024-05-01T00:00:00Z');

/** A dead letter of a drawing job (fields overridable). */
export function deadLetter(id: string, fields: Partial<DeadLetter> = {}): DeadLetter {
  return {
    id,
    queue: 'drawing',
    kind: 'drawing',
    code: 'POLL_TIMEOUT',
    message: 'gave up polling',
    attempts: 1,
    history: [{ attempt: 1, at: T0, code: 'POLL_TIMEOUT', message: 'gave up polling' }],
    request: { text: 'a cat', style: 'oil', resolution: '1024*1024', num: 1 },
    meta: { enqueuedAt: T0 },
    failedAt: T0,
    ...fields,
  };
}

/** A completed result line of a batch item. */
export function done(index: number): BatchItemResult & { state: 'completed' } {
  return { index, jobId: `dr_b~${index}`, state: 'completed', images: [`${index}.png`] };
}

/** A dead result line of a batch item. */
export function dead(index: number): BatchItemResult & { state: 'dead' } {
  return { index, jobId: `dr_b~${index}`, state: 'dead', code: '202', message: 'blocked' };
}
