import type { PollSchedule } from '@atelier/shared';
import type { DurationEstimate } from './duration-estimate.ts';
import { DURATION_GRID } from './duration-grid.ts';

export interface PollBounds {
  /** `DRAWING_POLL_COST_MS`: ms of detection delay one query is worth. */
  costMs: number;
  /** Shortest gap between two polls of one task. */
  minGapMs: number;
  /** Longest gap between two polls (`DRAWING_POLL_MAX_INTERVAL_MS`). */
  maxGapMs: number;
  /** Latest first poll after submit. */
  firstMaxMs: number;
  /** Last poll (`DRAWING_POLL_DEADLINE_MS` after submit): the schedule ends there. */
  deadlineMs: number;
  /**
   * Choices within this share of the best expected cost count as equally good; tasks pick
   * among them at random, which spreads a batch's polls (default 0.02).
   */
  slack?: number;
}

/** Shortest gap between two polls of one task (or the configured interval, if shorter). */
export const MIN_GAP_MS = 250;

/** The bounds the configuration sets: first poll by the larger of first/largest interval. */
export function pollBounds(schedule: PollSchedule): PollBounds {
  return {
    costMs: schedule.costMs,
    minGapMs: Math.min(MIN_GAP_MS, schedule.intervalMs),
    maxGapMs: schedule.maxIntervalMs,
    firstMaxMs: Math.max(schedule.firstMs, schedule.maxIntervalMs),
    deadlineMs: schedule.deadlineMs,
  };
}

/**
 * The poll schedule that minimises, per task, `queries + mean detection delay / costMs` for
 * a duration estimate: dynamic programming over the grid. The state is the grid point of the
 * last pending answer (−1: not polled yet); from state a the next poll at b costs one query,
 * plus the delay of the tasks finishing in (a, b] (each waits until b), plus — for those still
 * running — the best cost from b onwards, all conditional on the task running at a:
 *
 *   V(a) = min over b of  1 + (t_b·P(a,b) − Σ_{a<j≤b} p_j·r_j) / costMs + (1 − P(a,b))·V(b)
 *
 * with P(a,b) the share finishing in (a, b], p_j the share finishing in step j and r_j its
 * midpoint, and V(deadline) = 0. Bounds: gaps between `minGapMs` and `maxGapMs` (the first poll
 * by `firstMaxMs`), nothing after the deadline.
 */
export class PollPolicy {
  /** Expected cost per task of the best schedule, from submit. */
  readonly expectedCost: number;
  /** Grid index of the deadline (the last poll). */
  readonly horizon: number;
  readonly #times: Float64Array;
  readonly #hazard: Float64Array;
  /** V(a) for a = −1..horizon, stored at a + 1. */
  readonly #value: Float64Array;
  readonly #best: Int32Array;
  readonly #bounds: Required<PollBounds>;
  readonly #choices = new Map<number, Int32Array>();

  constructor(estimate: DurationEstimate, bounds: PollBounds) {
    this.#bounds = { ...bounds, slack: bounds.slack ?? 0.02 };
    const grid = DURATION_GRID;
    let horizon = grid.length - 1;
    for (let i = 0; i < grid.length; i++) {
      if ((grid[i] as number) >= bounds.deadlineMs) {
        horizon = i;
        break;
      }
    }
    this.horizon = horizon;
    this.#times = Float64Array.from(grid.slice(0, horizon + 1), (t) =>
      Math.min(t, bounds.deadlineMs),
    );
    this.#hazard = estimate.hazard.subarray(0, horizon + 1);
    this.#value = new Float64Array(horizon + 2);
    this.#best = new Int32Array(horizon + 2).fill(horizon);
    for (let a = horizon - 1; a >= -1; a--) {
      let best = Number.POSITIVE_INFINITY;
      this.#scan(a, (b, cost) => {
        if (cost < best) {
          best = cost;
          this.#best[a + 1] = b;
        }
      });
      this.#value[a + 1] = best;
    }
    this.expectedCost = this.#value[0] as number;
  }

  /**
   * Grid index of the next poll after a pending answer at grid index `from` (−1: the first
   * poll), or undefined past the deadline. `random` in [0, 1) picks among the choices within
   * `slack` of the best; without it, the best.
   */
  next(from: number, random?: number): number | undefined {
    if (from >= this.horizon) return undefined;
    const a = Math.max(-1, from);
    if (random === undefined) return this.#best[a + 1];
    const choices = this.#choicesAfter(a);
    return choices[Math.min(choices.length - 1, Math.floor(random * choices.length))];
  }

  /** Offset (ms from submit) of grid index `index` in this schedule. */
  timeMs(index: number): number {
    return this.#times[Math.max(0, Math.min(index, this.horizon))] as number;
  }

  /**
   * The schedule's centre line: for each poll, the mean offset (ms from submit) of the equally
   * good choices, continuing from the choice nearest to it — up to the point by which a share
   * `coverage` of tasks is done (or the deadline). What "the schedule" is when one is compared
   * with another.
   */
  path(coverage = 0.999): number[] {
    const polls: number[] = [];
    let running = 1;
    let a = -1;
    while (a < this.horizon && running > 1 - coverage) {
      const choices = this.#choicesAfter(a);
      let mean = 0;
      for (const b of choices) mean += this.#times[b] as number;
      mean /= choices.length;
      let b = choices[0] as number;
      for (const c of choices) {
        if (
          Math.abs((this.#times[c] as number) - mean) < Math.abs((this.#times[b] as number) - mean)
        )
          b = c;
      }
      for (let j = a + 1; j <= b; j++) running *= 1 - (this.#hazard[j] as number);
      polls.push(mean);
      a = b;
    }
    return polls;
  }

  /** The polls (ms from submit) of a task that takes every best choice (coverage as in `path`). */
  bestPath(coverage = 0.999): number[] {
    const polls: number[] = [];
    let running = 1;
    let a = -1;
    while (a < this.horizon && running > 1 - coverage) {
      const b = this.#best[a + 1] as number;
      for (let j = a + 1; j <= b; j++) running *= 1 - (this.#hazard[j] as number);
      polls.push(this.#times[b] as number);
      a = b;
    }
    return polls;
  }

  /** The next polls after state a within `slack` of the best (computed once per state). */
  #choicesAfter(a: number): Int32Array {
    let choices = this.#choices.get(a);
    if (!choices) {
      const limit = (this.#value[a + 1] as number) * (1 + this.#bounds.slack);
      const found: number[] = [];
      this.#scan(a, (b, cost) => {
        if (cost <= limit) found.push(b);
      });
      choices = Int32Array.from(found.length > 0 ? found : [this.#best[a + 1] as number]);
      this.#choices.set(a, choices);
    }
    return choices;
  }

  /** Calls `visit(b, cost)` for every allowed next poll b after state a. */
  #scan(a: number, visit: (b: number, cost: number) => void): void {
    const { costMs, minGapMs, maxGapMs, firstMaxMs } = this.#bounds;
    const times = this.#times;
    const hazard = this.#hazard;
    const horizon = this.horizon;
    const start = a < 0 ? 0 : (times[a] as number);
    const longest = a < 0 ? firstMaxMs : maxGapMs;
    let running = 1;
    let finishedAt = 0;
    let allowedOne = false;
    for (let b = a + 1; b <= horizon; b++) {
      const h = hazard[b] as number;
      const t = times[b] as number;
      const mid = b === 0 ? 0 : ((times[b - 1] as number) + t) / 2;
      finishedAt += running * h * mid;
      running *= 1 - h;
      const gap = t - start;
      if (a >= 0 && gap < minGapMs && b < horizon) continue;
      if (gap > longest && allowedOne) break;
      allowedOne = true;
      const delay = t * (1 - running) - finishedAt;
      visit(b, 1 + delay / costMs + running * (this.#value[b + 1] as number));
    }
  }
}
