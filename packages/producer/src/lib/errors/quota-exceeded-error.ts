import { AtelierError } from '@atelier/shared';

/** What the tenant's day stood at when an enqueue was refused. */
export interface QuotaFigures {
  /** Images per UTC day (`ATELIER_QUOTAS`). */
  limit: number;
  /** Images counted today before this request. */
  used: number;
  /** Images this request would have added (a batch: all its items together). */
  requested: number;
  /** When the day's count starts again (the next UTC midnight), ISO-8601. */
  resetAt: string;
}

/**
 * An enqueue refused whole because it would take its tenant past its images per UTC day:
 * nothing was queued. `retryAfterMs` runs until the day resets (HTTP 429, `Retry-After`).
 */
export class QuotaExceededError extends AtelierError {
  override name = 'QuotaExceededError';

  constructor(tenant: string, figures: QuotaFigures, now: number) {
    const { limit, used, requested, resetAt } = figures;
    super(
      `tenant ${tenant} may enqueue ${limit} images per UTC day; ${used} are counted today and this request adds ${requested}: nothing was queued (the count resets at ${resetAt})`,
      {
        code: 'QUOTA_EXCEEDED',
        retryAfterMs: Math.max(0, Date.parse(resetAt) - now),
        details: { limit, used, requested, resetAt },
      },
    );
  }
}
