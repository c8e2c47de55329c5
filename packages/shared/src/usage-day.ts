const DAY_MS = 24 * 60 * 60 * 1000;
const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The UTC day of an instant as `YYYY-MM-DD`: the day quotas and usage are counted on. */
export function usageDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** The start (epoch ms) of the UTC day after the one `epochMs` falls in: when a quota resets. */
export function nextUsageDayStart(epochMs: number): number {
  return Math.floor(epochMs / DAY_MS) * DAY_MS + DAY_MS;
}

/** The start (epoch ms) of a `YYYY-MM-DD` UTC day; undefined for anything else (or no such day). */
export function usageDayStart(day: string): number | undefined {
  const match = DAY_PATTERN.exec(day);
  if (!match) return undefined;
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return usageDay(ms) === day ? ms : undefined;
}

/** Every day from `from` to `to` (both `YYYY-MM-DD`, included), oldest first. */
export function usageDays(from: string, to: string): string[] {
  const start = usageDayStart(from);
  const end = usageDayStart(to);
  if (start === undefined || end === undefined) return [];
  const days: string[] = [];
  for (let ms = start; ms <= end; ms += DAY_MS) days.push(usageDay(ms));
  return days;
}
