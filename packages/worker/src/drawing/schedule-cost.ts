import { DURATION_GRID } from './duration-grid.ts';

/** A duration distribution by its CDF: ms → P(duration ≤ ms). */
export type DurationCdf = (ms: number) => number;

export interface ScheduleCost {
  /** Expected queries per task. */
  queries: number;
  /** Expected detection delay (poll that saw it done − finish), ms. */
  meanDelayMs: number;
  /** `queries + meanDelayMs / costMs`: what the learned schedule minimises. */
  cost: number;
  /** Share of the tasks done by the last poll whose detection delay is at most `ms`. */
  delayCdf(ms: number): number;
  /** The p-quantile (0..1) of the detection delay of tasks done by the last poll, ms. */
  delayQuantileMs(p: number): number;
}

const STEPS = 400;

/**
 * The exact cost per task of polling at `polls` (ms from submit, increasing) when durations
 * follow `cdf`: the k-th poll is made if the task was still running at the one before, and a
 * task finishing in (t_{k−1}, t_k] waits until t_k, so the delay it adds is
 * ∫ (F(x) − F(t_{k−1})) dx over that interval. Tasks not done by the last poll count their
 * queries and no delay (they time out). The definition every schedule is measured by.
 */
export function scheduleCost(
  polls: readonly number[],
  cdf: DurationCdf,
  costMs: number,
): ScheduleCost {
  let queries = 0;
  let delay = 0;
  let previous = 0;
  let previousF = 0;
  for (const t of polls) {
    queries += 1 - previousF;
    // Simpson's rule over (previous, t].
    const width = (t - previous) / STEPS;
    let sum = 0;
    for (let i = 0; i <= STEPS; i++) {
      const x = i === 0 ? previous + width * 1e-6 : previous + i * width;
      const weight = i === 0 || i === STEPS ? 1 : i % 2 === 1 ? 4 : 2;
      sum += weight * (cdf(x) - previousF);
    }
    delay += width > 0 ? (sum * width) / 3 : 0;
    previous = t;
    previousF = cdf(t);
  }
  const detected = previousF;
  const delayCdf = (x: number) => {
    let total = 0;
    let before = 0;
    let beforeF = 0;
    for (const t of polls) {
      const ft = cdf(t);
      const from = Math.max(before, t - x);
      total += ft - (from <= before ? beforeF : cdf(from));
      before = t;
      beforeF = ft;
    }
    return detected > 0 ? total / detected : 1;
  };
  const longestGap = polls.reduce(
    (m, t, i) => Math.max(m, t - (i > 0 ? (polls[i - 1] as number) : 0)),
    0,
  );
  return {
    queries,
    meanDelayMs: delay,
    cost: queries + delay / costMs,
    delayCdf,
    delayQuantileMs: (p) => quantileOf(delayCdf, p, longestGap),
  };
}

/** The p-quantile of a CDF known to reach 1 by `upper` (bisection). */
export function quantileOf(cdf: (x: number) => number, p: number, upper: number): number {
  let lo = 0;
  let hi = upper;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) >= p) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * A known distribution as hazards on the duration grid (the estimate an infinite, unbiased
 * sample would give): for computing the best schedule for it — the limit a learned one aims at.
 */
export function hazardsFromCdf(cdf: DurationCdf): Float64Array {
  const hazard = new Float64Array(DURATION_GRID.length);
  let survived = 1;
  for (let j = 0; j < DURATION_GRID.length; j++) {
    const s = 1 - cdf(DURATION_GRID[j] as number);
    hazard[j] = survived > 1e-15 ? Math.min(1 - 1e-12, Math.max(0, 1 - s / survived)) : 1 - 1e-12;
    survived = s;
  }
  return hazard;
}
