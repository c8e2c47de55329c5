import { createHash, randomUUID } from 'node:crypto';
import { DEFAULT_TENANT, withTenant } from '@atelier/shared';

const SAFE_KEY = /^[A-Za-z0-9_.-]{1,120}$/;

/**
 * The id of a new batch: `b_<uuid>`, or from the batch's idempotency key (readable when made
 * of safe characters, `b~<sha256>` otherwise), so submitting the same key again finds it.
 * Keys are per tenant: any tenant but `default` gets `@<tenant>` appended (`withTenant`), and
 * so do its items' job ids.
 */
export function batchIdFor(idempotencyKey?: string, tenant = DEFAULT_TENANT): string {
  if (idempotencyKey === undefined) return withTenant(`b_${randomUUID()}`, tenant);
  if (SAFE_KEY.test(idempotencyKey)) return withTenant(`b_${idempotencyKey}`, tenant);
  const digest = createHash('sha256').update(idempotencyKey, 'utf8').digest('base64url');
  return withTenant(`b~${digest}`, tenant);
}

/** The job ids of a batch's items (defined with the other job ids, in `@atelier/shared`). */
export { batchItemIdPrefix, batchItemJobId } from '@atelier/shared';
