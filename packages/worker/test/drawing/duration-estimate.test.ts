import { describe, expect, it } from 'vitest';
import {
  CensoredDurations,
  groupAnswers,
  type PollAnswer,
} from '../../src/drawing/censored-durations.ts';
import { estimateDurations, quantileMs, survivalAt } from '../../src/drawing/duration-estimate.ts';
import { DURATION_GRID, nearestGridIndex } from '../../src/drawing/duration-grid.ts';
import { durationPrior } from '../../src/drawing/duration-prior.ts';
import { PollPolicy, pollBounds } from '../../src/drawing/poll-policy.ts';
import { lognormal, SCHEDULE, seeded } from './duration-fixtures.ts';

const prior = durationPrior(SCHEDULE);
const at = (ms: number) => nearestGridIndex(ms);
/** The grid point an offset is rounded to. */
const point = (ms: number) => DURATION_GRID[at(ms)] as number;

/** What polling one task at `polls` (ms from submit) answers, up to the poll that finds it done. */
function answersFor(duration: number, polls: readonly number[]): PollAnswer[] {
  const answers: PollAnswer[] = [];
  let from = -1;
  for (const t of polls) {
    const done = t >= duration;
    answers.push({ from, to: at(t), done });
    if (done) break;
    from = at(t);
  }
  return answers;
}

describe('estimateDurations', () => {
  it('with no answers it is the prior, for which the best schedule is the configured one', () => {
    const estimate = estimateDurations([], prior);
    expect(estimate.supportedUntil).toBe(-1);
    const path = new PollPolicy(estimate, pollBounds(SCHEDULE)).bestPath(0.99);
    // DRAWING_POLL_FIRST_MS, then every DRAWING_POLL_INTERVAL_MS (to the grid's 2.5 %).
    for (const [k, expected] of [8000, 13_000, 18_000, 23_000].entries()) {
      expect(Math.abs((path[k] as number) - expected) / expected).toBeLessThan(0.03);
    }
  });

  it('recovers the distribution from answers that only say "done by t" or "not yet" (one poll per task)', () => {
    const truth = lognormal(8000, 0.5);
    const random = seeded(11);
    const answers: PollAnswer[] = [];
    for (let i = 0; i < 6000; i++) {
      const t = 2000 + random() * 18_000;
      answers.push({ from: -1, to: at(t), done: truth.sample(random) <= t });
    }
    const estimate = estimateDurations(groupAnswers(answers), prior);
    for (const ms of [4000, 6000, 8000, 12_000, 16_000]) {
      expect(Math.abs(1 - survivalAt(estimate, at(ms)) - truth.cdf(point(ms)))).toBeLessThan(0.04);
    }
  });

  it('counts tasks still running without bias (answers arrive while a batch is half-way)', () => {
    const truth = lognormal(8000, 0.4);
    const random = seeded(12);
    const answers: PollAnswer[] = [];
    for (let i = 0; i < 4000; i++) {
      const duration = truth.sample(random);
      const all = answersFor(duration, [6000, 9000, 12_000, 16_000]);
      // Only half of the tasks have had their later polls yet: the rest are still running.
      answers.push(...(i % 2 === 0 ? all : all.slice(0, 1)));
    }
    const estimate = estimateDurations(groupAnswers(answers), prior);
    for (const ms of [6000, 9000, 12_000]) {
      expect(Math.abs(1 - survivalAt(estimate, at(ms)) - truth.cdf(point(ms)))).toBeLessThan(0.03);
    }
  });

  it('follows a change: once the provider slows down, new answers outweigh the old ones', () => {
    const stats = new CensoredDurations({ halfLife: 2000 });
    const random = seeded(13);
    const polls = Array.from({ length: 40 }, (_, k) => 2000 + 1000 * k);
    const feed = (medianMs: number, tasks: number) => {
      const truth = lognormal(medianMs, 0.3);
      for (let i = 0; i < tasks; i += 100) {
        const answers: PollAnswer[] = [];
        for (let j = 0; j < 100; j++) answers.push(...answersFor(truth.sample(random), polls));
        stats.add(groupAnswers(answers));
      }
    };
    feed(8000, 2000);
    const before = quantileMs(estimateDurations(stats.groups(), prior), 0.5);
    expect(Math.abs(before - 8000) / 8000).toBeLessThan(0.08);
    feed(16_000, 2000);
    const after = quantileMs(estimateDurations(stats.groups(), prior), 0.5);
    expect(Math.abs(after - 16_000) / 16_000).toBeLessThan(0.08);
  });

  it('past the answers it extrapolates the finishing rate it saw last, not the cold-start pace', () => {
    // Only the first polls (about 8 s) of a fast-finishing shape have been answered so far.
    const truth = lognormal(8000, 0.2);
    const random = seeded(14);
    const answers: PollAnswer[] = [];
    for (let i = 0; i < 2000; i++) {
      const t = 7000 + random() * 2000;
      answers.push({ from: -1, to: at(t), done: truth.sample(random) <= t });
    }
    const estimate = estimateDurations(groupAnswers(answers), prior);
    const cold = estimateDurations([], prior);
    const hazardAfter = (e: typeof estimate) =>
      1 - survivalAt(e, at(12_000)) / survivalAt(e, at(9000));
    expect(hazardAfter(estimate)).toBeGreaterThan(1.5 * hazardAfter(cold));
  });
});
