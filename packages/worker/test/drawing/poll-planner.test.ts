import { describe, expect, it } from 'vitest';
import { estimateDurations } from '../../src/drawing/duration-estimate.ts';
import { durationPrior } from '../../src/drawing/duration-prior.ts';
import { type PlanInput, planNextPoll } from '../../src/drawing/poll-planner.ts';
import { PollPolicy, pollBounds } from '../../src/drawing/poll-policy.ts';
import { hazardsFromCdf } from '../../src/drawing/schedule-cost.ts';
import { lognormal, SCHEDULE, seeded } from './duration-fixtures.ts';

const T0 = 1_700_000_000_000;
const coldPolicy = new PollPolicy(
  estimateDurations([], durationPrior(SCHEDULE)),
  pollBounds(SCHEDULE),
);
const hazard = hazardsFromCdf(lognormal(8000, 0.5, 3000, 30_000).cdf);
const widePolicy = new PollPolicy(
  { hazard, atRisk: new Float64Array(hazard.length), supportedUntil: hazard.length - 1, weight: 0 },
  pollBounds(SCHEDULE),
);

function input(overrides: Partial<PlanInput> = {}): PlanInput {
  return {
    schedule: SCHEDULE,
    policy: widePolicy,
    startedAt: T0,
    submittedAt: T0,
    polls: 0,
    now: T0,
    random: () => 0.5,
    ...overrides,
  };
}

describe('planNextPoll', () => {
  it('plans the first poll from the learned schedule', () => {
    const next = planNextPoll(input());
    expect(next.pastDeadline).toBe(false);
    expect(next.plan.by).toBe('schedule');
    expect(next.at - T0).toBeGreaterThan(6500);
    expect(next.at - T0).toBeLessThan(9000);
    expect(next.plan.offsetMs).toBe(next.at - T0);
  });

  it('cold, it polls at DRAWING_POLL_FIRST_MS and then every DRAWING_POLL_INTERVAL_MS', () => {
    const first = planNextPoll(input({ policy: coldPolicy }));
    expect(Math.abs(first.at - T0 - 8000)).toBeLessThan(400);
    const second = planNextPoll(input({ policy: coldPolicy, polls: 1, now: first.at }));
    expect(Math.abs(second.at - first.at - 5000)).toBeLessThan(500);
  });

  it("the provider's waiting hint decides the next poll, kept between the smallest gap and the largest interval", () => {
    const next = planNextPoll(input({ polls: 1, now: T0 + 8000, hintMs: 3000 }));
    expect(next.plan.by).toBe('hint');
    expect(next.at).toBe(T0 + 11_000);
    expect(planNextPoll(input({ polls: 1, now: T0 + 10_000, hintMs: 10 })).at).toBe(T0 + 10_250);
    expect(planNextPoll(input({ polls: 1, now: T0 + 10_000, hintMs: 90_000 })).at).toBe(
      T0 + 40_000,
    );
    // A hint wins over the first poll too; no usable hint: the schedule.
    expect(planNextPoll(input({ hintMs: 4000 })).plan.by).toBe('hint');
    expect(planNextPoll(input({ polls: 1, now: T0 + 8000, hintMs: 0 })).plan.by).toBe('schedule');
  });

  it('never plans a poll in the past (a job that waited for a slot polls at once)', () => {
    const late = planNextPoll(input({ now: T0 + 20_000 }));
    expect(late.at).toBe(T0 + 20_000);
  });

  it('never leaves a gap over the largest interval', () => {
    const schedule = { ...SCHEDULE, maxIntervalMs: 2000 };
    const next = planNextPoll(input({ schedule, polls: 1, now: T0 + 8000 }));
    expect(next.at - (T0 + 8000)).toBeLessThanOrEqual(2000);
  });

  it('the last poll lands on the deadline; at the deadline it gives up', () => {
    const late = planNextPoll(input({ polls: 20, now: T0 + SCHEDULE.deadlineMs - 1000 }));
    expect(late.at).toBe(T0 + SCHEDULE.deadlineMs);
    expect(late.pastDeadline).toBe(false);
    expect(planNextPoll(input({ polls: 21, now: T0 + SCHEDULE.deadlineMs })).pastDeadline).toBe(
      true,
    );
  });

  it("past the schedule's horizon (a replayed task) it steps like the spec, counted from the replay", () => {
    const resumed = T0 + 3_600_000;
    const gapAt = (sinceReplayMs: number) => {
      const now = resumed + sinceReplayMs;
      const next = planNextPoll(input({ polls: 40, startedAt: resumed, now }));
      expect(next.plan.by).toBe('interval');
      return next.at - now;
    };
    // The starting interval for 12 of them, 2.5× it up to 36, then the largest.
    expect(gapAt(1000)).toBe(SCHEDULE.intervalMs);
    expect(gapAt(12 * SCHEDULE.intervalMs)).toBe(2.5 * SCHEDULE.intervalMs);
    expect(gapAt(36 * SCHEDULE.intervalMs)).toBe(SCHEDULE.maxIntervalMs);
  });

  it('spreads a batch: 1,000 tasks submitted at one instant do not poll at one instant', () => {
    const random = seeded(21);
    const firsts = Array.from({ length: 1000 }, () => planNextPoll(input({ random })).at - T0);
    const sorted = [...firsts].sort((a, b) => a - b);
    // No 100 ms holds more than 10 % of them (unspread, all 1,000 would poll in the same one).
    let crowded = 0;
    for (let i = 0, j = 0; i < sorted.length; i++) {
      while ((sorted[i] as number) - (sorted[j] as number) > 100) j++;
      crowded = Math.max(crowded, i - j + 1);
    }
    expect(crowded).toBeLessThanOrEqual(100);
    expect((sorted[999] as number) - (sorted[0] as number)).toBeGreaterThan(1000);
  });

  it('a few first polls probe earlier than the schedule, spread log-uniformly', () => {
    const random = seeded(23);
    const plans = Array.from({ length: 5000 }, () => planNextPoll(input({ random })));
    const probes = plans.filter((p) => p.plan.by === 'probe');
    expect(probes.length / plans.length).toBeGreaterThan(0.01);
    expect(probes.length / plans.length).toBeLessThan(0.03);
    const scheduled = plans.filter((p) => p.plan.by === 'schedule').map((p) => p.at - T0);
    const earliest = Math.min(...scheduled);
    for (const probe of probes) expect(probe.at - T0).toBeLessThan(Math.max(...scheduled));
    // Some well before the schedule: below a tenth of it, and some near it.
    expect(probes.some((p) => p.at - T0 < earliest / 10)).toBe(true);
    expect(probes.some((p) => p.at - T0 > earliest / 2)).toBe(true);
    // Later polls never probe.
    const later = Array.from({ length: 500 }, () =>
      planNextPoll(input({ random, polls: 1, now: T0 + 8000 })),
    );
    expect(later.every((p) => p.plan.by === 'schedule')).toBe(true);
  });

  it('a poll due within INLINE_POLL_MS is made at once', () => {
    const offset = planNextPoll(input({ probeRate: 0 })).at - T0;
    // The same plan for a task submitted so that its first poll is due 60 ms from now.
    const submittedAt = T0 - offset + 60;
    const due = planNextPoll(input({ probeRate: 0, submittedAt, startedAt: submittedAt }));
    expect(due.at).toBe(T0);
    const notYet = T0 - offset + 150;
    expect(planNextPoll(input({ probeRate: 0, submittedAt: notYet, startedAt: notYet })).at).toBe(
      T0 + 150,
    );
  });

  it('polls instant tasks at once (inline, no spreading)', () => {
    const instant = new PollPolicy(
      {
        hazard: hazardsFromCdf(() => 1),
        atRisk: new Float64Array(hazard.length),
        supportedUntil: 0,
        weight: 1,
      },
      pollBounds(SCHEDULE),
    );
    const random = seeded(22);
    for (let i = 0; i < 20; i++)
      expect(planNextPoll(input({ policy: instant, random })).at).toBe(T0);
  });
});
