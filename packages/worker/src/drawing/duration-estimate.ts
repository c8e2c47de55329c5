import type { ObservationGroup } from './censored-durations.ts';
import { DURATION_GRID, nearestGridIndex } from './duration-grid.ts';
import type { DurationPrior } from './duration-prior.ts';

/**
 * The distribution of task durations on the grid, as hazards: `hazard[0]` is the share of tasks
 * done at once (duration ≤ 0), `hazard[j]` (j ≥ 1) the share of tasks still running at
 * `grid[j − 1]` that finish by `grid[j]`.
 */
export interface DurationEstimate {
  readonly hazard: Float64Array;
  /** Observation weight at risk in each step (what the estimate rests on there). */
  readonly atRisk: Float64Array;
  /** Last grid index with at least `supportWeight` at risk (−1: none). */
  readonly supportedUntil: number;
  /** Total observation weight. */
  readonly weight: number;
}

export interface EstimateOptions {
  /** Pseudo-observations of the prior per step (default 0.5). */
  priorWeight?: number;
  /** Weight at risk from which a step counts as covered by data (default 3). */
  supportWeight?: number;
  /** Most EM iterations (default 30; from an earlier estimate a few do). */
  iterations?: number;
  /**
   * Smooth the finishing rate over neighbouring steps after each iteration (EMS; default true):
   * answers at a few poll offsets say little about the shape between them, and the unsmoothed
   * estimate piles the finishes onto those offsets.
   */
  smoothing?: boolean;
  /** Hazards to start from (an earlier estimate: it converges in a few steps from there). */
  initial?: Float64Array;
}

const MAX_HAZARD = 1 - 1e-12;

/**
 * The maximum-likelihood hazards for censored poll answers (Turnbull's self-consistency
 * algorithm — EM — in hazard form): each done answer's finish is spread over the steps of its
 * interval in proportion to the current estimate, each pending answer counts its steps as
 * survived, and every step's hazard becomes events / at-risk; then the finishing rates are
 * smoothed over neighbouring steps (EMS). A weak prior (`priorWeight` pseudo-observations per
 * step) fills steps no answer covers. Beyond the last covered step the estimate continues at the
 * finishing rate seen over the last 10 % of the covered range (or the prior's, if that is
 * higher), so a schedule learned from a few early answers extrapolates what it saw instead of
 * falling back to the cold-start pace.
 */
export function estimateDurations(
  groups: readonly ObservationGroup[],
  prior: DurationPrior,
  options: EstimateOptions = {},
): DurationEstimate {
  const priorWeight = options.priorWeight ?? 0.5;
  const supportWeight = options.supportWeight ?? 3;
  const iterations = options.iterations ?? 30;
  const smoothing = options.smoothing ?? true;
  const size = DURATION_GRID.length;
  const last = size - 1;

  const spans: ObservationGroup[] = [];
  let weight = 0;
  let top = 0;
  for (const g of groups) {
    const to = Math.min(g.to, last);
    const from = Math.max(-1, g.from);
    if (!(g.n > 0) || to <= from) continue;
    spans.push({ from, to, n: g.n, done: Math.min(g.done, g.n) });
    weight += g.n;
    top = Math.max(top, to);
  }

  const base = priorHazards(prior);
  if (spans.length === 0) {
    return { hazard: base, atRisk: new Float64Array(size), supportedUntil: -1, weight: 0 };
  }
  // EM starts from the prior (or the earlier estimate), floored so that it can move weight anywhere.
  const initial = options.initial?.length === size ? options.initial : base;
  const hazard = Float64Array.from(initial, (h) => Math.min(0.999, Math.max(1e-3, h)));
  const events = new Float64Array(size);
  const atRisk = new Float64Array(size);
  const next = new Float64Array(size);

  // Per iteration O(groups + steps): a done answer spread over its interval (from, to] adds
  // c·S(j−1)·h(j) events and c·(S(j−1) − S(to)) at-risk to each step j in it, with
  // c = done / (S(from) − S(to)) — so each group adds constants over a range (difference arrays).
  const reach = new Float64Array(size + 1);
  const addPending = new Float64Array(size + 1);
  const addC = new Float64Array(size + 1);
  const addCS = new Float64Array(size + 1);
  for (let iteration = 0; iteration < iterations; iteration++) {
    reach[0] = 1;
    for (let j = 0; j <= top; j++)
      reach[j + 1] = (reach[j] as number) * (1 - (hazard[j] as number));
    events.fill(0, 0, top + 1);
    atRisk.fill(0, 0, top + 1);
    addPending.fill(0, 0, top + 2);
    addC.fill(0, 0, top + 2);
    addCS.fill(0, 0, top + 2);
    for (const { from, to, n, done } of spans) {
      const first = from + 1;
      const pending = n - done;
      if (pending > 0) {
        addPending[first] = (addPending[first] as number) + pending;
        addPending[to + 1] = (addPending[to + 1] as number) - pending;
      }
      if (done <= 0) continue;
      const runningAtFrom = reach[first] as number;
      const runningAtTo = reach[to + 1] as number;
      const mass = runningAtFrom - runningAtTo;
      if (mass > 1e-12 * runningAtFrom && mass > 0) {
        const c = done / mass;
        addC[first] = (addC[first] as number) + c;
        addC[to + 1] = (addC[to + 1] as number) - c;
        addCS[first] = (addCS[first] as number) + c * runningAtTo;
        addCS[to + 1] = (addCS[to + 1] as number) - c * runningAtTo;
      } else {
        // The estimate says nothing finishes here: spread the finish evenly.
        const length = to - from;
        for (let j = first; j <= to; j++) {
          events[j] = (events[j] as number) + done / length;
          atRisk[j] = (atRisk[j] as number) + (done * (to - j + 1)) / length;
        }
      }
    }
    let pendingSum = 0;
    let c = 0;
    let cs = 0;
    for (let j = 0; j <= top; j++) {
      pendingSum += addPending[j] as number;
      c += addC[j] as number;
      cs += addCS[j] as number;
      const r = reach[j] as number;
      events[j] = (events[j] as number) + c * r * (hazard[j] as number);
      atRisk[j] = (atRisk[j] as number) + pendingSum + Math.max(0, c * r - cs);
    }
    for (let j = 0; j <= top; j++) {
      next[j] = Math.min(
        MAX_HAZARD,
        ((events[j] as number) + priorWeight * (base[j] as number)) /
          ((atRisk[j] as number) + priorWeight),
      );
    }
    if (smoothing) smooth(next, top);
    let change = 0;
    for (let j = 0; j <= top; j++) {
      change = Math.max(change, Math.abs((next[j] as number) - (hazard[j] as number)));
      hazard[j] = next[j] as number;
    }
    for (let j = top + 1; j < size; j++) hazard[j] = base[j] as number;
    if (change < 1e-5) break;
  }

  let supportedUntil = -1;
  for (let j = top; j >= 0; j--) {
    if ((atRisk[j] as number) >= supportWeight) {
      supportedUntil = j;
      break;
    }
  }
  if (supportedUntil >= 1) extrapolate(hazard, events, atRisk, base, supportedUntil, priorWeight);
  return { hazard, atRisk, supportedUntil, weight };
}

/** P(duration > grid[index]) (index −1: 1). */
export function survivalAt(estimate: DurationEstimate, index: number): number {
  let s = 1;
  for (let j = 0; j <= index && j < estimate.hazard.length; j++)
    s *= 1 - (estimate.hazard[j] as number);
  return s;
}

/** The first grid offset (ms) by which a share `p` of tasks is done. */
export function quantileMs(estimate: DurationEstimate, p: number): number {
  let s = 1;
  for (let j = 0; j < estimate.hazard.length; j++) {
    s *= 1 - (estimate.hazard[j] as number);
    if (1 - s >= p) return DURATION_GRID[j] as number;
  }
  return DURATION_GRID[DURATION_GRID.length - 1] as number;
}

/**
 * Averages the finishing rate (per ms) of each step with its neighbours' (weights ¼, ½, ¼), for
 * steps 1..top; step 0 (done at once) is a point, not a rate, and stays as it is.
 */
function smooth(hazard: Float64Array, top: number): void {
  const grid = DURATION_GRID;
  const rates: number[] = [];
  for (let j = 1; j <= top; j++) {
    const width = (grid[j] as number) - (grid[j - 1] as number);
    rates.push(-Math.log1p(-(hazard[j] as number)) / width);
  }
  for (let j = 1; j <= top; j++) {
    const i = j - 1;
    const rate = rates[i] as number;
    const left = rates[i - 1] ?? rate;
    const right = rates[i + 1] ?? rate;
    const width = (grid[j] as number) - (grid[j - 1] as number);
    hazard[j] = Math.min(MAX_HAZARD, -Math.expm1(-((left + 2 * rate + right) / 4) * width));
  }
}

/** The prior's hazard per grid step. */
function priorHazards(prior: DurationPrior): Float64Array {
  const grid = DURATION_GRID;
  const base = new Float64Array(grid.length);
  for (let j = 1; j < grid.length; j++) {
    const lo = Math.max(grid[j - 1] as number, prior.quietUntilMs);
    const hi = grid[j] as number;
    if (hi <= lo) continue;
    base[j] = -Math.expm1(-prior.ratePerMs((lo + hi) / 2) * (hi - lo));
  }
  return base;
}

/**
 * Past the covered range: the finishing rate over the last 10 % of it, or the prior's where
 * that is higher (a stretch where nothing finished says little about what follows).
 */
function extrapolate(
  hazard: Float64Array,
  events: Float64Array,
  atRisk: Float64Array,
  base: Float64Array,
  until: number,
  priorWeight: number,
): void {
  const grid = DURATION_GRID;
  const end = grid[until] as number;
  const start = Math.min(until - 1, nearestGridIndex(0.9 * end));
  let survived = 1;
  for (let j = start + 1; j <= until; j++) survived *= 1 - (hazard[j] as number);
  const seen =
    survived > 0 ? -Math.log(survived) / (end - (grid[start] as number)) : Number.POSITIVE_INFINITY;
  for (let j = until + 1; j < grid.length; j++) {
    const width = (grid[j] as number) - (grid[j - 1] as number);
    const fromSeen = Number.isFinite(seen) ? -Math.expm1(-seen * width) : MAX_HAZARD;
    const tail = Math.max(fromSeen, base[j] as number);
    hazard[j] = Math.min(
      MAX_HAZARD,
      ((events[j] as number) + priorWeight * tail) / ((atRisk[j] as number) + priorWeight),
    );
  }
}
