import { createHash, randomUUID } from 'node:crypto';

const SAFE_KEY = /^[A-Za-z0-9_.-]{1,120}$/;

/**
 * The id of a new batch: `b_<uuid>`, or from the batch's idempotency key (readable when made
 * of safe characters, `b~<sha256>` otherwise), so submitting the same key again finds it.
 */
export function batchIdFor(idempotencyKey?: string): string {
  if (idempotencyKey === undefined) return `b_${randomUUID()}`;
  if (SAFE_KEY.test(idempotencyKey)) return `b_${idempotencyKey}`;
  return `b~${createHash('sha256').update(idempotencyKey, 'utf8').digest('base64url')}`;
}

/** The job id of a batch item (defined with the other job ids, in `@atelier/shared`). */
export { batchItemJobId } from '@atelier/shared';
