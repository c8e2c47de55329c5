import type { PollSchedule } from '@atelier/shared';
import type { DurationDistribution } from '@atelier/simulator';
import { PollPolicy, pollBounds } from '../../packages/worker/src/drawing/poll-policy.ts';
import {
  hazardsFromCdf,
  quantileOf,
  scheduleCost,
} from '../../packages/worker/src/drawing/schedule-cost.ts';
import { lognormal } from '../../packages/worker/test/drawing/duration-fixtures.ts';

type Lognormal = Extract<DurationDistribution, { kind: 'lognormal' }>;

/** Task durations the realistic benchmark draws from, and what each `num` draws. */
export interface BenchDistribution {
  name: string;
  label: string;
  /** For the simulator. */
  duration: DurationDistribution;
  /** `num` of task i (the shapes the batch mixes). */
  numOf(i: number): number;
  nums: number[];
  /** The same as `duration`, per num, as lognormals. */
  shapes: Map<number, Lognormal>;
}

function scaled(d: Omit<Lognormal, 'kind'>, scale: number): Lognormal {
  return {
    kind: 'lognormal',
    medianMs: d.medianMs * scale,
    sigma: d.sigma,
    ...(d.minMs !== undefined ? { minMs: d.minMs * scale } : {}),
    ...(d.maxMs !== undefined ? { maxMs: d.maxMs * scale } : {}),
  };
}

/** Narrow, wide (the issue's), and bimodal by `num`; every time × `scale`. */
export function benchDistributions(scale: number): BenchDistribution[] {
  const narrow = scaled({ medianMs: 9000, sigma: 0.2 }, scale);
  const wide = scaled({ medianMs: 8000, sigma: 0.5, minMs: 3000, maxMs: 30_000 }, scale);
  const one = scaled({ medianMs: 6000, sigma: 0.3 }, scale);
  const four = scaled({ medianMs: 18_000, sigma: 0.3 }, scale);
  return [
    {
      name: 'narrow',
      label: 'lognormal, median 9 s, σ 0.2',
      duration: narrow,
      numOf: () => 1,
      nums: [1],
      shapes: new Map([[1, narrow]]),
    },
    {
      name: 'wide',
      label: 'lognormal, median 8 s, σ 0.5, clipped to 3–30 s',
      duration: wide,
      numOf: () => 1,
      nums: [1],
      shapes: new Map([[1, wide]]),
    },
    {
      name: 'bimodal by num',
      label: 'num 1: lognormal median 6 s; num 4: median 18 s (σ 0.3), half each',
      duration: { kind: 'byNum', byNum: { 4: four }, otherwise: one },
      numOf: (i) => (i % 2 === 0 ? 1 : 4),
      nums: [1, 4],
      shapes: new Map([
        [1, one],
        [4, four],
      ]),
    },
  ];
}

export interface Limit {
  queries: number;
  meanDelayMs: number;
  cost: number;
  delayQuantileMs(p: number): number;
  /** The best schedule per num (ms from submit, until 99.9 % are done). */
  paths: Map<number, number[]>;
}

/**
 * The limit: for each shape, the best schedule for the distribution it is drawn from (the
 * learned schedule's optimiser given the true distribution instead of an estimate), its exact
 * cost, and the batch's mix of shapes.
 */
export function limitFor(distribution: BenchDistribution, schedule: PollSchedule): Limit {
  const parts = distribution.nums.map((num) => {
    const d = distribution.shapes.get(num) as Lognormal;
    const { cdf } = lognormal(d.medianMs, d.sigma, d.minMs, d.maxMs);
    const hazard = hazardsFromCdf(cdf);
    const policy = new PollPolicy(
      {
        hazard,
        atRisk: new Float64Array(hazard.length),
        supportedUntil: hazard.length - 1,
        weight: 0,
      },
      pollBounds(schedule),
    );
    const cost = scheduleCost(policy.bestPath(1 - 1e-9), cdf, schedule.costMs);
    return { num, path: policy.bestPath(0.999), cost };
  });
  const share = 1 / parts.length;
  const queries = parts.reduce((sum, p) => sum + share * p.cost.queries, 0);
  const meanDelayMs = parts.reduce((sum, p) => sum + share * p.cost.meanDelayMs, 0);
  const delayCdf = (x: number) => parts.reduce((sum, p) => sum + share * p.cost.delayCdf(x), 0);
  return {
    queries,
    meanDelayMs,
    cost: queries + meanDelayMs / schedule.costMs,
    delayQuantileMs: (p) => quantileOf(delayCdf, p, schedule.maxIntervalMs),
    paths: new Map(parts.map((p) => [p.num, p.path])),
  };
}
