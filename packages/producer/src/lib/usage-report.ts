import {
  isTenantName,
  usageDay,
  usageDayStart,
  usageDays,
  ValidationError,
  type ValidationIssue,
} from '@atelier/shared';
import type { TenantUsage, UsageDayFigures } from '@atelier/store';
import { ForbiddenError } from './errors/forbidden-error.ts';
import type { RedisGuard } from './redis-guard.ts';

/** `GET /v1/usage`: UTC days `from` to `to` (both included; default the last 30 days). */
export interface UsageQuery {
  from?: string;
  to?: string;
  /** Another tenant's usage (a producer that sees all only). */
  tenant?: string;
}

export interface UsageReport {
  tenant: string;
  from: string;
  to: string;
  /** Images per UTC day the tenant may enqueue (`ATELIER_QUOTAS`); null: no quota. */
  quota: number | null;
  /** One line per day, oldest first (days without any: zeros). */
  days: UsageDayFigures[];
  total: { images: number; jobs: number };
}

/** Days one report may span. */
const MAX_DAYS = 366;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The usage report a scope may read; query checked in one place (fields and rules named). */
export async function usageReport(
  usage: TenantUsage,
  guard: RedisGuard,
  scope: { tenant: string; seesAll: boolean; quotaOf(tenant: string): number | undefined },
  query: UsageQuery,
  now = Date.now(),
): Promise<UsageReport> {
  const issues: ValidationIssue[] = [];
  const day = (field: 'from' | 'to', value: string | undefined, fallback: string) => {
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || usageDayStart(value) === undefined) {
      issues.push({ field, rule: 'date', message: `${field} must be a UTC day as YYYY-MM-DD` });
      return fallback;
    }
    return value;
  };
  const to = day('to', query.to, usageDay(now));
  const from = day('from', query.from, usageDay((usageDayStart(to) ?? now) - 29 * DAY_MS));
  const tenant = query.tenant ?? scope.tenant;
  if (typeof tenant !== 'string' || !isTenantName(tenant)) {
    issues.push({
      field: 'tenant',
      rule: 'tenantName',
      message: 'tenant must be 1 to 40 of a-z, 0-9, "_" and "-"',
    });
  }
  const span = ((usageDayStart(to) ?? 0) - (usageDayStart(from) ?? 0)) / DAY_MS + 1;
  if (issues.length === 0 && span < 1) {
    issues.push({ field: 'from', rule: 'order', message: 'from must not be after to' });
  }
  if (issues.length === 0 && span > MAX_DAYS) {
    issues.push({
      field: 'from',
      rule: 'range',
      message: `from and to may span at most ${MAX_DAYS} days`,
    });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  if (!scope.seesAll && tenant !== scope.tenant) {
    throw new ForbiddenError(
      `tenant: this key acts for tenant ${scope.tenant} only (an admin key may name another)`,
      { field: 'tenant' },
    );
  }
  const days = await guard.run(() => usage.read(tenant, usageDays(from, to)));
  const total = days.reduce(
    (sum, d) => ({ images: sum.images + d.images, jobs: sum.jobs + d.jobs }),
    { images: 0, jobs: 0 },
  );
  return { tenant, from, to, quota: scope.quotaOf(tenant) ?? null, days, total };
}
