import type { PollPlan, PollSchedule } from '@atelier/shared';
import type { LearnedTimes } from './learned-poll-timing.ts';

/** Polls closer than this to "now" run inline instead of through the delayed set. */
export const INLINE_POLL_MS = 100;
/** Smallest gap between two polls of one task. */
const MIN_GAP_MS = 250;

export interface PlanInput {
  schedule: PollSchedule;
  learned: LearnedTimes;
  /** When polling (re)started: submit time, or the replay time. */
  startedAt: number;
  submittedAt: number;
  /** Polls done so far for this task. */
  polls: number;
  /** The provider's `waiting` estimate from the last answer, in ms. */
  hintMs?: number;
  now: number;
}

export interface PlannedPoll {
  at: number;
  plan: PollPlan;
  /** True when `at` is past the deadline: the caller gives up instead. */
  pastDeadline: boolean;
}

/**
 * When to look next. First and second polls aim at what the fleet learned for this shape;
 * the provider's `waiting` hint wins when present; after that the spec's stepped intervals
 * (starting interval up to 12 of them, 2.5× it up to 36, then the largest interval).
 * Never past the deadline: the last poll lands on it.
 */
export function planNextPoll(input: PlanInput): PlannedPoll {
  const { schedule, learned, startedAt, submittedAt, polls, now } = input;
  const deadline = startedAt + schedule.deadlineMs;
  const elapsed = now - submittedAt;
  let plan: PollPlan;

  if (input.hintMs !== undefined && input.hintMs > 0) {
    const gap = Math.min(Math.max(input.hintMs, MIN_GAP_MS), schedule.maxIntervalMs);
    plan = { by: 'hint', offsetMs: elapsed + gap };
  } else if (polls === 0) {
    plan = { by: 'first', offsetMs: Math.max(learned.firstMs, 0) };
  } else if (polls === 1 && learned.secondMs > elapsed + MIN_GAP_MS) {
    plan = { by: 'second', offsetMs: learned.secondMs };
  } else {
    plan = { by: 'interval', offsetMs: elapsed + intervalAt(schedule, now - startedAt) };
  }

  const at = Math.max(submittedAt + plan.offsetMs, now);
  if (now >= deadline) return { at: now, plan, pastDeadline: true };
  if (at > deadline)
    return {
      at: deadline,
      plan: { ...plan, offsetMs: deadline - submittedAt },
      pastDeadline: false,
    };
  return { at, plan, pastDeadline: false };
}

function intervalAt(schedule: PollSchedule, elapsedMs: number): number {
  const base = schedule.intervalMs;
  if (elapsedMs < 12 * base) return base;
  if (elapsedMs < 36 * base) return Math.min(schedule.maxIntervalMs, Math.round(2.5 * base));
  return schedule.maxIntervalMs;
}
