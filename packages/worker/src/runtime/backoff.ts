import { hasCode } from '@atelier/shared';
import type { BackoffStrategy } from 'bullmq';

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

/**
 * BullMQ custom backoff for transient failures: the error's own `retryAfterMs` when it has
 * one, else exponential from `baseMs` with "equal jitter" (half fixed, half random), capped.
 */
export function createBackoffStrategy(options: BackoffOptions): BackoffStrategy {
  const random = options.random ?? Math.random;
  return (attemptsMade, _type, error) => {
    const hinted = hasCode(error) ? (error as { retryAfterMs?: unknown }).retryAfterMs : undefined;
    if (typeof hinted === 'number' && hinted > 0) return Math.min(hinted, options.maxMs);
    const exponential = Math.min(
      options.maxMs,
      options.baseMs * 2 ** Math.max(0, attemptsMade - 1),
    );
    return Math.round(exponential / 2 + random() * (exponential / 2));
  };
}
