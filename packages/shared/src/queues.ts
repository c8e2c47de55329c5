import type { DefaultJobOptions } from 'bullmq';

export const QUEUE_NAMES = {
  drawing: 'drawing',
  cme: 'cme',
  callbacks: 'callbacks',
} as const;

export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];
export const ALL_QUEUES: readonly QueueName[] = Object.values(QUEUE_NAMES);

/** Name of the custom backoff strategy the worker registers (reads the error's own hint). */
export const ATELIER_BACKOFF = 'atelier';

export interface RetentionOptions {
  completedAgeSec: number;
  completedCount: number;
  failedAgeSec: number;
  failedCount: number;
  /** A finished batch (record and result lines) is removed this long after it finished. */
  batchAgeSec?: number;
  /** Dead letters are purged this long after they were filed. */
  deadLetterAgeSec?: number;
}

export const DEFAULT_RETENTION: Required<RetentionOptions> = Object.freeze({
  completedAgeSec: 7 * 24 * 3600,
  completedCount: 100_000,
  failedAgeSec: 30 * 24 * 3600,
  failedCount: 100_000,
  batchAgeSec: 30 * 24 * 3600,
  deadLetterAgeSec: 90 * 24 * 3600,
});

/** Attempts per queue: transient failures only; provider waits (polls, outages) consume none. */
export const DEFAULT_ATTEMPTS: Record<QueueName, number> = {
  drawing: 8,
  cme: 8,
  callbacks: 12,
};

/**
 * Default job options per queue. Retention is bounded by age and count in both directions:
 * never unbounded, and failures are never removed at once (the dead-letter reconciler reads them).
 */
export function defaultJobOptions(
  queue: QueueName,
  retention: RetentionOptions = DEFAULT_RETENTION,
): DefaultJobOptions {
  return {
    attempts: DEFAULT_ATTEMPTS[queue],
    backoff: { type: ATELIER_BACKOFF },
    removeOnComplete: { age: retention.completedAgeSec, count: retention.completedCount },
    removeOnFail: { age: retention.failedAgeSec, count: retention.failedCount },
  };
}
