import type { Metrics } from 'bullmq';

const MINUTE = 60_000;

/**
 * Jobs per minute over the last `windowMin` whole minutes, from BullMQ's worker metrics.
 * BullMQ appends a minute's count lazily (at the first job finished in a later minute):
 * `data[i]` is the minute `floor(prevTS / 1 min) - 1 - i`, and the jobs finished since
 * `prevTS` are `count - prevCount`, not yet in `data`.
 */
export function perMinuteRate(metrics: Metrics, now: number, windowMin = 5): number {
  const { count, prevTS, prevCount } = metrics.meta;
  if (!prevTS) return 0;
  const nowMinute = Math.floor(now / MINUTE);
  const from = nowMinute - windowMin;
  const lastMinute = Math.floor(Number(prevTS) / MINUTE);
  let sum = 0;
  metrics.data.forEach((value, i) => {
    const minute = lastMinute - 1 - i;
    if (minute >= from && minute < nowMinute) sum += Number(value) || 0;
  });
  if (lastMinute >= from) sum += Math.max(0, Number(count) - Number(prevCount));
  return sum / windowMin;
}
