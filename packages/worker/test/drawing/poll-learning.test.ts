import { describe, expect, it } from 'vitest';
import { PollPolicy, pollBounds } from '../../src/drawing/poll-policy.ts';
import { hazardsFromCdf, scheduleCost } from '../../src/drawing/schedule-cost.ts';
import {
  BatchReplay,
  type Distribution,
  lognormal,
  pathChange,
  SCHEDULE,
} from './duration-fixtures.ts';

/** The learning loop end to end, in virtual time: planner → answers → statistics → schedule. */
const DISTRIBUTIONS: Array<[string, Distribution]> = [
  ['narrow (median 9 s, σ 0.2)', lognormal(9000, 0.2)],
  ['wide (median 8 s, σ 0.5, 3–30 s)', lognormal(8000, 0.5, 3000, 30_000)],
  ['slow (median 18 s, σ 0.3)', lognormal(18_000, 0.3)],
];

function limit(distribution: Distribution) {
  const hazard = hazardsFromCdf(distribution.cdf);
  const policy = new PollPolicy(
    {
      hazard,
      atRisk: new Float64Array(hazard.length),
      supportedUntil: hazard.length - 1,
      weight: 0,
    },
    pollBounds(SCHEDULE),
  );
  return scheduleCost(policy.bestPath(1 - 1e-9), distribution.cdf, SCHEDULE.costMs);
}

const fixed5 = Array.from({ length: 120 }, (_, k) => 5000 * (k + 1));

describe.each(DISTRIBUTIONS)('the learned schedule, %s', (_name, distribution) => {
  it('cold start: the first batch queries less than fixed 5 s polling and, on average, detects no later', () => {
    // One cold batch is one draw: its delay can land a few per cent either side (the configured
    // first poll, 8 s, is what decides most of it), so four different ones are averaged.
    const baseline = scheduleCost(fixed5, distribution.cdf, SCHEDULE.costMs);
    let delay = 0;
    for (const seed of [31, 32, 33, 34]) {
      const cold = new BatchReplay(seed).run(distribution, 1000);
      expect(cold.queries).toBeLessThan(baseline.queries);
      delay += cold.meanDelayMs / 4;
    }
    expect(delay).toBeLessThanOrEqual(baseline.meanDelayMs);
  });

  it('stable under batches: once learned, three identical 1,000-task batches each move it < 5 %', () => {
    const replay = new BatchReplay(32);
    replay.run(distribution, 1000); // cold: learns from the configured schedule's answers
    let path = replay.run(distribution, 1000).path; // learns from its own
    for (let batch = 0; batch < 3; batch++) {
      const next = replay.run(distribution, 1000).path;
      expect(pathChange(path, next)).toBeLessThan(0.05);
      path = next;
    }
  });

  it('warm, it costs within 10 % of the best schedule for the distribution', () => {
    const replay = new BatchReplay(33);
    replay.run(distribution, 1000);
    replay.run(distribution, 1000);
    const warm = replay.run(distribution, 1000);
    const best = limit(distribution);
    expect(warm.queries + warm.meanDelayMs / SCHEDULE.costMs).toBeLessThanOrEqual(best.cost * 1.1);
  });
});

describe('the learned schedule, instant tasks', () => {
  it('learns from its probes that they need no wait: by the third batch it polls at once', () => {
    const instant: Distribution = { sample: () => 0, cdf: (ms) => (ms >= 0 ? 1 : 0) };
    const replay = new BatchReplay(35);
    const cold = replay.run(instant, 200);
    expect(cold.meanDelayMs).toBeGreaterThan(5000); // the configured first poll
    replay.run(instant, 200);
    const third = replay.run(instant, 200);
    expect(third.queries).toBe(1);
    expect(third.meanDelayMs).toBe(0);
    expect(replay.policy.next(-1)).toBe(0);
  });
});
