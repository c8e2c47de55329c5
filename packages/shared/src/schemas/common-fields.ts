import { z } from 'zod';

/** Priority callers may ask for: 1 runs first, 1000 last. */
export const PRIORITY_MIN = 1;
export const PRIORITY_MAX = 1000;
/** Defaults: single requests are served ahead of batch items. */
export const DEFAULT_PRIORITY = { single: 100, batchItem: 500 } as const;

export const IDEMPOTENCY_KEY_MAX_LENGTH = 200;

export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(IDEMPOTENCY_KEY_MAX_LENGTH)
  .refine((value) => value.trim() === value && !hasControlCharacter(value), {
    message: 'must not have surrounding spaces or control characters',
    params: { rule: 'format' },
  });

export const callbackUrlSchema = z
  .string()
  .max(2048)
  .refine(isHttpUrl, { message: 'must be an absolute http(s) URL', params: { rule: 'httpUrl' } });

export const prioritySchema = z.int().min(PRIORITY_MIN).max(PRIORITY_MAX);

/** Fields every enqueue request may carry besides its payload. */
export const enqueueOptionFields = {
  idempotencyKey: idempotencyKeySchema.optional(),
  callbackUrl: callbackUrlSchema.optional(),
  priority: prioritySchema.optional(),
};

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** BullMQ priority of drawing polls: ahead of every submit (callers' priorities map above it). */
export const POLL_PRIORITY = 1;

/** The BullMQ priority for a caller's priority (1..1000): one above polls, same order. */
export function toBullmqPriority(priority: number): number {
  return priority + POLL_PRIORITY;
}
