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
  it('cold start: the first batch queries less than fixed 5 s polling and detects no later', () => {
    const replay = new BatchReplay(31);
    const cold = replay.run(distribution, 1000);
    const baseline = scheduleCost(fixed5, distribution.cdf, SCHEDULE.costMs);
    expect(cold.queries).toBeLessThan(baseline.queries);
    expect(cold.meanDelayMs).toBeLessThanOrEqual(baseline.meanDelayMs * 1.02);
  });

  it('stable under batches: after the cold one, three identical 1,000-task batches each move it < 5 %', () => {
    const replay = new BatchReplay(32);
    let path = replay.run(distribution, 1000).path;
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
