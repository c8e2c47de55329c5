import { describe, expect, it } from 'vitest';
import type { DurationEstimate } from '../../src/drawing/duration-estimate.ts';
import { type PollBounds, PollPolicy } from '../../src/drawing/poll-policy.ts';
import { hazardsFromCdf, scheduleCost } from '../../src/drawing/schedule-cost.ts';
import { lognormal, seeded } from './duration-fixtures.ts';

/** Median 8 s, σ 0.5, clipped to 3–30 s: the spread the issue measured against. */
const wide = lognormal(8000, 0.5, 3000, 30_000);

function known(cdf: (ms: number) => number): DurationEstimate {
  const hazard = hazardsFromCdf(cdf);
  return {
    hazard,
    atRisk: new Float64Array(hazard.length),
    supportedUntil: hazard.length - 1,
    weight: 0,
  };
}

const BOUNDS: PollBounds = {
  costMs: 1500,
  minGapMs: 250,
  maxGapMs: 30_000,
  firstMaxMs: 30_000,
  deadlineMs: 600_000,
};

describe('PollPolicy', () => {
  it('respects the bounds: gaps between the shortest and the largest, nothing after the deadline', () => {
    const bounds = {
      ...BOUNDS,
      minGapMs: 1000,
      maxGapMs: 4000,
      firstMaxMs: 6000,
      deadlineMs: 60_000,
    };
    // Slow tasks (median 40 s) want long gaps: the bounds must hold them in.
    const policy = new PollPolicy(known(lognormal(40_000, 0.6).cdf), bounds);
    for (const random of [undefined, 0, 0.3, 0.7, 0.99]) {
      let from = -1;
      let previous = 0;
      let polls = 0;
      for (;;) {
        const next = policy.next(from, random);
        if (next === undefined) break;
        const t = policy.timeMs(next);
        if (from === -1) expect(t).toBeLessThanOrEqual(6000);
        else {
          expect(t - previous).toBeLessThanOrEqual(4000);
          if (next < policy.horizon) expect(t - previous).toBeGreaterThanOrEqual(1000);
        }
        expect(t).toBeLessThanOrEqual(60_000);
        previous = t;
        from = next;
        polls++;
      }
      // It polls to the end: the last poll is at the deadline.
      expect(previous).toBe(60_000);
      expect(polls).toBeGreaterThan(60_000 / 4000 - 1);
    }
  });

  it('is the cheapest schedule for the distribution: no fixed interval does better', () => {
    const policy = new PollPolicy(known(wide.cdf), BOUNDS);
    const best = scheduleCost(policy.bestPath(1 - 1e-9), wide.cdf, BOUNDS.costMs);
    // What the dynamic programme expects is what the schedule costs.
    expect(best.cost).toBeCloseTo(policy.expectedCost, 2);
    for (let gap = 1000; gap <= 12_000; gap += 250) {
      for (const first of [gap, 5000, 8000]) {
        const fixed = Array.from({ length: 200 }, (_, k) => first + gap * k);
        expect(best.cost).toBeLessThan(scheduleCost(fixed, wide.cdf, BOUNDS.costMs).cost);
      }
    }
  });

  it('matches the limit the issue computed (lognormal 8 s, σ 0.5, 3–30 s, knob 1.7 s: 1.91 queries, p50 2.14 s, p90 3.80 s)', () => {
    const policy = new PollPolicy(known(wide.cdf), { ...BOUNDS, costMs: 1700 });
    const cost = scheduleCost(policy.bestPath(1 - 1e-9), wide.cdf, 1700);
    expect(cost.queries).toBeCloseTo(1.91, 1);
    expect(cost.delayQuantileMs(0.5) / 1000).toBeCloseTo(2.14, 1);
    expect(Math.abs(cost.delayQuantileMs(0.9) / 1000 - 3.8)).toBeLessThan(0.1);
  });

  it('is monotone in the cost knob: dearer queries, fewer of them and later detection', () => {
    let previous: ReturnType<typeof scheduleCost> | undefined;
    for (const costMs of [250, 500, 1000, 1500, 2500, 4000, 8000]) {
      const policy = new PollPolicy(known(wide.cdf), { ...BOUNDS, costMs });
      const cost = scheduleCost(policy.bestPath(1 - 1e-9), wide.cdf, costMs);
      if (previous) {
        expect(cost.queries).toBeLessThanOrEqual(previous.queries);
        expect(cost.meanDelayMs).toBeGreaterThanOrEqual(previous.meanDelayMs);
      }
      previous = cost;
    }
  });

  it('polls instant tasks at once, and only once', () => {
    const policy = new PollPolicy(
      known((ms) => (ms >= 0 ? 1 : 0)),
      BOUNDS,
    );
    expect(policy.next(-1)).toBe(0);
    expect(policy.next(-1, 0.99)).toBe(0);
    expect(policy.expectedCost).toBeCloseTo(1, 6);
  });

  it('spreads a batch: equally good first polls are many, and cost next to nothing more', () => {
    const policy = new PollPolicy(known(wide.cdf), BOUNDS);
    const firsts = Array.from({ length: 1000 }, (_, i) =>
      policy.timeMs(policy.next(-1, i / 1000) as number),
    );
    expect(new Set(firsts).size).toBeGreaterThanOrEqual(5);
    expect(Math.max(...firsts) - Math.min(...firsts)).toBeGreaterThan(500);
    // Tasks picking at random pay about 1 % more than the best schedule; even one that always
    // picks the same extreme stays within a few per cent.
    const costOf = (draw: () => number) => {
      const path: number[] = [];
      let from = -1;
      for (let k = 0; k < 60; k++) {
        const next = policy.next(from, draw());
        if (next === undefined) break;
        path.push(policy.timeMs(next));
        from = next;
      }
      return scheduleCost(path, wide.cdf, 1500).cost;
    };
    const random = seeded(5);
    let total = 0;
    for (let i = 0; i < 1000; i++) total += costOf(random);
    expect(total / 1000).toBeLessThanOrEqual(policy.expectedCost * 1.02);
    for (const extreme of [0, 0.999]) {
      expect(costOf(() => extreme)).toBeLessThanOrEqual(policy.expectedCost * 1.05);
    }
  });
});
