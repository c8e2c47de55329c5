import type { PollSchedule } from '@atelier/shared';

/**
 * What the estimator assumes where it has seen nothing: no task finishes before `quietUntilMs`,
 * after that tasks finish at a constant rate per ms (which may step down later). Chosen so that
 * the schedule that is best for it is the configured one — first poll at
 * `DRAWING_POLL_FIRST_MS`, then every `DRAWING_POLL_INTERVAL_MS`, 2.5× that after 12 intervals
 * and `DRAWING_POLL_MAX_INTERVAL_MS` after 36 (as the spec suggests) — so a cold start polls like
 * the configuration says, and the unknown tail beyond what was learned is polled the same way.
 */
export interface DurationPrior {
  quietUntilMs: number;
  /** Finishing rate (per ms) at offset `ms` from submit, for `ms` ≥ `quietUntilMs`. */
  ratePerMs(ms: number): number;
}

export function durationPrior(schedule: PollSchedule): DurationPrior {
  const { firstMs, intervalMs, maxIntervalMs, costMs } = schedule;
  const stepped = Math.min(maxIntervalMs, Math.round(2.5 * intervalMs));
  const rates = [intervalMs, stepped, maxIntervalMs].map((gap) => memorylessRate(gap, costMs));
  const [base = 0, middle = 0, last = 0] = rates;
  const quietUntilMs = Math.max(0, firstMs - intervalMs);
  return {
    quietUntilMs,
    ratePerMs(ms) {
      if (ms < 12 * intervalMs) return base;
      if (ms < 36 * intervalMs) return middle;
      return last;
    },
  };
}

/**
 * The finishing rate λ (per ms) of a memoryless duration for which polling every `gapMs` is the
 * best schedule at a query cost of `costMs`. Polling every τ costs per task
 * (1 + (τ − (1 − e^(−λτ))/λ)/c) / (1 − e^(−λτ)); it is least where e^(λτ) − 1 = λ(c + τ), i.e.
 * with x = λτ: (e^x − 1 − x)/x = c/τ, which has one root (the left side grows from 0).
 */
export function memorylessRate(gapMs: number, costMs: number): number {
  const target = costMs / gapMs;
  const f = (x: number) => Math.expm1(x) / x - 1 - target;
  let lo = 1e-9;
  let hi = 1;
  while (f(hi) < 0 && hi < 700) hi *= 2;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2 / gapMs;
}
