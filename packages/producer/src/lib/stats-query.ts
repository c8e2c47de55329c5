import { ValidationError, type ValidationIssue } from '@atelier/shared';
import { STATS_RETENTION_MS, type StatsRange } from '@atelier/store';

/**
 * A request for the time series (`GET /v1/stats`, `producer.timeSeries`): numbers, or the
 * strings of a query string.
 */
export interface StatsQuery {
  /** Start, epoch ms or ISO-8601 (default: an hour before `to`); aligned down to a step. */
  from?: number | string;
  /** End, exclusive (default: now). */
  to?: number | string;
  /**
   * Seconds per point: whole minutes below an hour (summed from minute buckets, kept 48 h),
   * whole hours from an hour up (hour buckets, kept 30 days). Default: 60 up to 6 hours,
   * 600 up to 48 hours, 3600 beyond.
   */
  step?: number | string;
}

const MINUTE_SEC = 60;
const HOUR_SEC = 3600;
const HOUR_MS = HOUR_SEC * 1000;
/** Most points one answer holds. */
export const MAX_STATS_POINTS = 1500;
const MAX_RANGE_MS = STATS_RETENTION_MS.hour;
const FIELDS: ReadonlySet<string> = new Set(['from', 'to', 'step']);
/** An ISO-8601 date, or date and time (with seconds, fractions and a zone optional). */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * The range a query asks for, checked: `from` before `to`, at most 30 days apart, a step of
 * whole minutes (or whole hours from an hour up) that the kept buckets can answer, at most
 * `MAX_STATS_POINTS` points. Throws a `ValidationError` naming the field and the rule.
 */
export function resolveStatsQuery(query: unknown, now: number): StatsRange {
  if (query === undefined || query === null) return resolveStatsQuery({}, now);
  if (typeof query !== 'object' || Array.isArray(query)) {
    throw new ValidationError([
      { field: '(query)', rule: 'type', message: 'the query must be an object' },
    ]);
  }
  const input = query as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  for (const key of Object.keys(input)) {
    if (!FIELDS.has(key)) {
      issues.push({ field: key, rule: 'unknownField', message: `${key} is not a known field` });
    }
  }
  const to = time(input.to, 'to', issues) ?? now;
  const from = time(input.from, 'from', issues) ?? to - HOUR_MS;
  const stepSec = step(input.step, issues);
  if (issues.length > 0) throw new ValidationError(issues);

  const refuse = (field: string, rule: string, message: string): never => {
    throw new ValidationError([{ field, rule, message: `${field} ${message}` }]);
  };
  if (from >= to) refuse('from', 'beforeTo', 'must be before to');
  if (to - from > MAX_RANGE_MS) {
    refuse('from', 'range', 'must be at most 30 days before to (hour buckets are kept 30 days)');
  }
  const stepMs = (stepSec ?? defaultStep(to - from)) * 1000;
  if (stepMs < HOUR_MS && from < now - STATS_RETENTION_MS.minute) {
    refuse(
      'step',
      'minuteRetention',
      'under 3600 reads minute buckets, kept 48 hours: use a step of 3600 or more for a range reaching back further',
    );
  }
  const alignedFrom = Math.floor(from / stepMs) * stepMs;
  const points = Math.ceil((to - alignedFrom) / stepMs);
  if (points > MAX_STATS_POINTS) {
    refuse(
      'step',
      'maxPoints',
      `gives ${points} points over this range; at most ${MAX_STATS_POINTS}: use a larger step`,
    );
  }
  return { from, to, stepMs };
}

function defaultStep(rangeMs: number): number {
  if (rangeMs <= 6 * HOUR_MS) return MINUTE_SEC;
  if (rangeMs <= STATS_RETENTION_MS.minute) return 10 * MINUTE_SEC;
  return HOUR_SEC;
}

function time(value: unknown, field: string, issues: ValidationIssue[]): number | undefined {
  if (value === undefined) return undefined;
  let ms = Number.NaN;
  if (typeof value === 'number') ms = value;
  else if (/^\d+$/.test(String(value))) ms = Number(value);
  else if (typeof value === 'string' && ISO_8601.test(value)) ms = Date.parse(value);
  if (!Number.isSafeInteger(ms) || ms < 0) {
    issues.push({
      field,
      rule: 'time',
      message: `${field} must be epoch milliseconds or an ISO-8601 date`,
    });
    return undefined;
  }
  return ms;
}

function step(value: unknown, issues: ValidationIssue[]): number | undefined {
  if (value === undefined) return undefined;
  const seconds =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value)
        ? Number(value)
        : Number.NaN;
  const issue = (rule: string, message: string) => {
    issues.push({ field: 'step', rule, message: `step ${message}` });
    return undefined;
  };
  if (!Number.isSafeInteger(seconds)) return issue('integer', 'must be a whole number of seconds');
  if (seconds < MINUTE_SEC) return issue('min', 'must be at least 60');
  if (seconds > MAX_RANGE_MS / 1000) return issue('max', `must be at most ${MAX_RANGE_MS / 1000}`);
  if (seconds % MINUTE_SEC !== 0) {
    return issue('multipleOf', 'must be a whole number of minutes (a multiple of 60)');
  }
  if (seconds >= HOUR_SEC && seconds % HOUR_SEC !== 0) {
    return issue(
      'multipleOf',
      'of an hour or more must be a whole number of hours (a multiple of 3600)',
    );
  }
  return seconds;
}
