import type { DrawingJobState, DrawingTask, PollPlan, PollSchedule } from '@atelier/shared';
import { nearestGridIndex } from './duration-grid.ts';
import { LearnedPollTiming } from './learned-poll-timing.ts';
import { MIN_GAP_MS, type PollPolicy } from './poll-policy.ts';

/**
 * Polls closer than this to "now" run inline instead of through the delayed set — and at once:
 * holding a worker slot idle for a few ms costs more than looking a few ms early.
 */
export const INLINE_POLL_MS = 100;
/** Share of first polls that probe earlier than the schedule says (see `planNextPoll`). */
export const PROBE_RATE = 0.02;
/** Earliest probe (ms after submit). */
const PROBE_FROM_MS = 10;

export interface PlanInput {
  schedule: PollSchedule;
  /** The learned schedule for the task's shape. */
  policy: PollPolicy;
  /** When polling (re)started: submit time, or the replay time. */
  startedAt: number;
  submittedAt: number;
  /** Polls done so far for this task. */
  polls: number;
  /** The provider's `waiting` estimate from the last answer, in ms. */
  hintMs?: number;
  now: number;
  /** Draws in [0, 1): which of the equally good next polls, and where in its grid step. */
  random: () => number;
  /** Share of first polls that probe (default `PROBE_RATE`). */
  probeRate?: number;
}

export interface PlannedPoll {
  at: number;
  plan: PollPlan;
  /** True when `at` is past the deadline: the caller gives up instead. */
  pastDeadline: boolean;
}

/**
 * When to look next. The provider's `waiting` hint wins when present; otherwise the learned
 * schedule's next poll from where the task stands (its grid point now; not polled yet: −1),
 * picked at random among the equally good ones and placed at random within its grid step, so
 * tasks submitted together spread out. A few first polls (`probeRate`) probe instead, at a
 * log-uniform time before the scheduled one: answers only ever come from where the schedule
 * looks, so without them it could not learn that tasks got faster than its first poll (or
 * were instant all along). Past the schedule's horizon (a replayed task), the spec's stepped
 * intervals. Never a gap over the largest interval, never past the deadline: the last poll
 * lands on it.
 */
export function planNextPoll(input: PlanInput): PlannedPoll {
  const { schedule, policy, startedAt, submittedAt, polls, now } = input;
  const deadline = startedAt + schedule.deadlineMs;
  const elapsed = now - submittedAt;
  let plan: PollPlan;

  if (input.hintMs !== undefined && input.hintMs > 0) {
    const gap = Math.min(Math.max(input.hintMs, MIN_GAP_MS), schedule.maxIntervalMs);
    plan = { by: 'hint', offsetMs: elapsed + gap };
  } else {
    const from = polls === 0 ? -1 : nearestGridIndex(elapsed);
    const next = policy.next(from, input.random());
    if (next === undefined) {
      plan = { by: 'interval', offsetMs: elapsed + intervalAt(schedule, now - startedAt) };
    } else {
      const point = policy.timeMs(next);
      // Anywhere in the point's step (half-way to each neighbour); "at once" stays at once.
      const lo = next === 0 ? 0 : (policy.timeMs(next - 1) + point) / 2;
      const hi = next === 0 ? 0 : (point + policy.timeMs(next + 1)) / 2;
      const latest =
        polls === 0
          ? Math.max(schedule.firstMs, schedule.maxIntervalMs)
          : elapsed + schedule.maxIntervalMs;
      plan = { by: 'schedule', offsetMs: Math.min(latest, lo + input.random() * (hi - lo)) };
      const probe = polls === 0 && input.random() < (input.probeRate ?? PROBE_RATE);
      if (probe && plan.offsetMs > 2 * PROBE_FROM_MS) {
        const span = Math.log(plan.offsetMs / PROBE_FROM_MS);
        plan = { by: 'probe', offsetMs: PROBE_FROM_MS * Math.exp(input.random() * span) };
      }
    }
  }

  let at = Math.max(submittedAt + plan.offsetMs, now);
  if (at - now <= INLINE_POLL_MS) at = now;
  if (now >= deadline) return { at: now, plan, pastDeadline: true };
  if (at > deadline)
    return {
      at: deadline,
      plan: { ...plan, offsetMs: deadline - submittedAt },
      pastDeadline: false,
    };
  return { at, plan: { ...plan, offsetMs: at - submittedAt }, pastDeadline: false };
}

function intervalAt(schedule: PollSchedule, elapsedMs: number): number {
  const base = schedule.intervalMs;
  if (elapsedMs < 12 * base) return base;
  if (elapsedMs < 36 * base) return Math.min(schedule.maxIntervalMs, Math.round(2.5 * base));
  return schedule.maxIntervalMs;
}

export interface PollPlannerOptions {
  timing: LearnedPollTiming;
  schedule: PollSchedule;
  /** Source of the spreading draws (default `Math.random`). */
  random?: () => number;
}

/**
 * The two calls a drawing job makes about polling: when to poll next (`next`), and what a
 * poll found (`observe`, which feeds the shared statistics). Neither costs a Redis round trip
 * of its own (see `LearnedPollTiming`).
 */
export class PollPlanner {
  readonly #timing: LearnedPollTiming;
  readonly #schedule: PollSchedule;
  readonly #random: () => number;

  constructor(options: PollPlannerOptions) {
    this.#timing = options.timing;
    this.#schedule = options.schedule;
    this.#random = options.random ?? Math.random;
  }

  /** When to poll a submitted task next, `state` being its state after its last answer. */
  async next(
    task: Pick<DrawingTask, 'resolution' | 'num'>,
    state: DrawingJobState,
    now: number,
    hintMs?: number,
  ): Promise<PlannedPoll> {
    const submittedAt = state.submittedAt ?? now;
    const policy = await this.#timing.policy(
      LearnedPollTiming.shape(task.resolution, task.num),
      now,
    );
    return planNextPoll({
      schedule: this.#schedule,
      policy,
      startedAt: Math.max(submittedAt, state.resumedAt ?? 0),
      submittedAt,
      polls: state.polls,
      ...(hintMs !== undefined ? { hintMs } : {}),
      now,
      random: this.#random,
    });
  }

  /**
   * A poll answered at `now`: done, or still pending. `state` is the task's state before this
   * poll (its last poll, if any, was pending).
   */
  observe(
    task: Pick<DrawingTask, 'resolution' | 'num'>,
    state: DrawingJobState,
    done: boolean,
    now: number,
  ): void {
    const submittedAt = state.submittedAt;
    if (submittedAt === undefined) return;
    const from =
      state.polls > 0 && state.lastPollAt !== undefined
        ? nearestGridIndex(state.lastPollAt - submittedAt)
        : -1;
    this.#timing.observe(LearnedPollTiming.shape(task.resolution, task.num), {
      from,
      to: nearestGridIndex(now - submittedAt),
      done,
    });
  }
}
