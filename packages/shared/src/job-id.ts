import { createHash, randomUUID } from 'node:crypto';
import type { JobKind } from './job-payloads.ts';
import { DEFAULT_TENANT, withTenant } from './tenant.ts';

const KIND_PREFIX: Record<JobKind, string> = { drawing: 'dr', cme: 'cm' };
const SAFE_KEY = /^[A-Za-z0-9_.-]{1,120}$/;

/**
 * The BullMQ job id for a new job. An idempotency key becomes the id (so enqueuing it again
 * finds the same job): kept readable when it is made of safe characters, hashed otherwise
 * (BullMQ ids cannot contain `:` nor be bare integers). The kind prefix keeps ids unique
 * across kinds; `_` marks a readable key, `~` a hashed one, so the two never collide.
 * Idempotency keys are per tenant: any tenant but `default` gets `@<tenant>` appended
 * (`withTenant`), so two tenants sending the same key get two jobs.
 */
export function jobIdFor(kind: JobKind, idempotencyKey?: string, tenant = DEFAULT_TENANT): string {
  const prefix = KIND_PREFIX[kind];
  if (idempotencyKey === undefined) return withTenant(`${prefix}_${randomUUID()}`, tenant);
  if (SAFE_KEY.test(idempotencyKey)) return withTenant(`${prefix}_${idempotencyKey}`, tenant);
  const digest = createHash('sha256').update(idempotencyKey, 'utf8').digest('base64url');
  return withTenant(`${prefix}~${digest}`, tenant);
}

/** The kind a job id belongs to, or undefined for ids Atelier did not mint. */
export function kindOfJobId(id: string): JobKind | undefined {
  if (id.startsWith('dr_') || id.startsWith('dr~')) return 'drawing';
  if (id.startsWith('cm_') || id.startsWith('cm~')) return 'cme';
  return undefined;
}

/**
 * The job id of item `index` of a batch: `dr_<batchId>~<index>`. It starts with `dr_` (so
 * `kindOfJobId` says drawing) and contains a `~` after it, which no id minted by `jobIdFor`
 * does (readable keys exclude `~`, hashed ones start `dr~`): a caller's idempotency key can
 * never collide with a batch item.
 */
export function batchItemJobId(batchId: string, index: number): string {
  return `${batchItemIdPrefix(batchId)}${index}`;
}

/** What every item id of a batch starts with (its index follows). */
export function batchItemIdPrefix(batchId: string): string {
  return `${KIND_PREFIX.drawing}_${batchId}~`;
}

/** The batch and index a batch item's job id names (`batchItemJobId`); undefined for other ids. */
export function batchItemOfJobId(id: string): { batchId: string; index: number } | undefined {
  if (!id.startsWith('dr_')) return undefined;
  const cut = id.lastIndexOf('~');
  if (cut <= 3) return undefined;
  const index = id.slice(cut + 1);
  if (!/^(0|[1-9]\d{0,9})$/.test(index)) return undefined;
  return { batchId: id.slice(3, cut), index: Number(index) };
}
