/**
 * The offsets from submit (ms) the learned poll schedule reasons on: every observation is
 * rounded to the nearest point and every planned poll lands on one. Fine where a step matters
 * (50 ms up to 1 s, then 2.5 % steps to 20 s), coarser further out (0.5 s to 1 min, 1 s to
 * 2 min, 5 s to 10 min, 30 s to 1 h). Fixed, so statistics written by one worker mean the same
 * to every other; a change of grid needs new Redis keys.
 */
export const DURATION_GRID: readonly number[] = Object.freeze(buildGrid());

/** Index of the grid point nearest to `ms` (clamped to the grid). */
export function nearestGridIndex(ms: number): number {
  const grid = DURATION_GRID;
  if (!(ms > 0)) return 0;
  const last = grid.length - 1;
  if (ms >= (grid[last] as number)) return last;
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((grid[mid] as number) <= ms) lo = mid;
    else hi = mid;
  }
  return ms - (grid[lo] as number) <= (grid[hi] as number) - ms ? lo : hi;
}

function buildGrid(): number[] {
  const points: number[] = [];
  for (let t = 0; t < 1000; t += 50) points.push(t);
  let t = 1000;
  while (t < 20_000) {
    points.push(t);
    t = Math.max(t + 10, Math.round((t * 1.025) / 10) * 10);
  }
  for (t = 20_000; t < 60_000; t += 500) points.push(t);
  for (t = 60_000; t < 120_000; t += 1000) points.push(t);
  for (t = 120_000; t < 600_000; t += 5000) points.push(t);
  for (t = 600_000; t <= 3_600_000; t += 30_000) points.push(t);
  return points;
}
