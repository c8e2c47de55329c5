import type { PollSchedule } from '@atelier/shared';
import { describe, expect, it } from 'vitest';
import { type PlanInput, planNextPoll } from '../../src/drawing/poll-planner.ts';

const T0 = 1_700_000_000_000;
const SCHEDULE: PollSchedule = {
  firstMs: 8000,
  intervalMs: 2000,
  maxIntervalMs: 20_000,
  deadlineMs: 600_000,
};
const LEARNED = { firstMs: 9000, secondMs: 14_000, observations: 50 };

/** A plan for a task submitted at T0, `elapsedMs` later. */
function plan(elapsedMs: number, fields: Partial<PlanInput> = {}) {
  return planNextPoll({
    schedule: SCHEDULE,
    learned: LEARNED,
    startedAt: T0,
    submittedAt: T0,
    polls: 2,
    now: T0 + elapsedMs,
    ...fields,
  });
}

describe('planNextPoll', () => {
  it('aims the first poll at what was learned for the shape', () => {
    expect(plan(0, { polls: 0 })).toEqual({
      at: T0 + 9000,
      plan: { by: 'first', offsetMs: 9000 },
      pastDeadline: false,
    });
  });

  it('aims the second poll at the learned second time while it is still ahead', () => {
    expect(plan(9000, { polls: 1 })).toMatchObject({
      at: T0 + 14_000,
      plan: { by: 'second', offsetMs: 14_000 },
    });
    // Too close to now (within the smallest gap) or past: the stepped interval instead.
    expect(plan(13_800, { polls: 1 }).plan.by).toBe('interval');
  });

  it("follows the provider's hint, kept between the smallest gap and the largest interval", () => {
    expect(plan(10_000, { hintMs: 3000 })).toMatchObject({
      at: T0 + 13_000,
      plan: { by: 'hint', offsetMs: 13_000 },
    });
    expect(plan(10_000, { hintMs: 10 }).at).toBe(T0 + 10_250);
    expect(plan(10_000, { hintMs: 90_000 }).at).toBe(T0 + 30_000);
    // A hint wins even over the learned first poll.
    expect(plan(0, { polls: 0, hintMs: 4000 }).plan.by).toBe('hint');
    // No usable hint: the schedule.
    expect(plan(10_000, { hintMs: 0 }).plan.by).toBe('interval');
  });

  it('steps the interval up: the starting one for 12 of them, 2.5× it up to 36, then the largest', () => {
    const gapAt = (elapsedMs: number) => plan(elapsedMs).at - (T0 + elapsedMs);
    expect(gapAt(10_000)).toBe(2000);
    expect(gapAt(12 * 2000 - 1)).toBe(2000);
    expect(gapAt(12 * 2000)).toBe(5000);
    expect(gapAt(36 * 2000 - 1)).toBe(5000);
    expect(gapAt(36 * 2000)).toBe(20_000);
  });

  it('counts the intervals from a replay, not from the submit', () => {
    const resumed = T0 + 500_000;
    const next = plan(500_000 + 10_000, { startedAt: resumed });
    expect(next.at - (T0 + 510_000)).toBe(2000);
    expect(next.plan).toEqual({ by: 'interval', offsetMs: 512_000 });
  });

  it('never plans a poll in the past', () => {
    // The learned first time has gone by already (a job that waited for a slot).
    expect(plan(20_000, { polls: 0 })).toMatchObject({
      at: T0 + 20_000,
      plan: { by: 'first', offsetMs: 9000 },
    });
  });

  it('lands the last poll on the deadline, and gives up once it has passed', () => {
    const deadline = T0 + SCHEDULE.deadlineMs;
    expect(plan(SCHEDULE.deadlineMs - 1000)).toEqual({
      at: deadline,
      plan: { by: 'interval', offsetMs: SCHEDULE.deadlineMs },
      pastDeadline: false,
    });
    expect(plan(SCHEDULE.deadlineMs)).toMatchObject({ at: deadline, pastDeadline: true });
    // A replay restarts the deadline.
    expect(plan(SCHEDULE.deadlineMs, { startedAt: T0 + 100_000 }).pastDeadline).toBe(false);
  });
});
