import {
  CensoredDurations,
  groupAnswers,
  type PollAnswer,
} from '../../src/drawing/censored-durations.ts';
import { type DurationEstimate, estimateDurations } from '../../src/drawing/duration-estimate.ts';
import { nearestGridIndex } from '../../src/drawing/duration-grid.ts';
import { durationPrior } from '../../src/drawing/duration-prior.ts';
import { planNextPoll } from '../../src/drawing/poll-planner.ts';
import { PollPolicy, pollBounds } from '../../src/drawing/poll-policy.ts';
import type { DurationCdf } from '../../src/drawing/schedule-cost.ts';

/** The default configured schedule (`DRAWING_POLL_*`). */
export const SCHEDULE = {
  firstMs: 8000,
  intervalMs: 5000,
  maxIntervalMs: 30_000,
  deadlineMs: 600_000,
  costMs: 1500,
};

/** mulberry32: the same numbers every run. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Distribution {
  sample(random: () => number): number;
  cdf: DurationCdf;
}

/** Lognormal with median `medianMs`, clipped to [minMs, maxMs]. */
export function lognormal(
  medianMs: number,
  sigma: number,
  minMs = 0,
  maxMs = Infinity,
): Distribution {
  return {
    sample(random) {
      const u = Math.max(random(), 1e-12);
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
      return Math.min(maxMs, Math.max(minMs, medianMs * Math.exp(sigma * z)));
    },
    cdf(ms) {
      if (ms >= maxMs) return 1;
      if (ms < minMs || ms <= 0) return 0;
      return normalCdf(Math.log(ms / medianMs) / sigma);
    },
  };
}

function normalCdf(z: number): number {
  // Abramowitz–Stegun 7.1.26 (error < 1.5e-7).
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

export interface BatchOutcome {
  queries: number;
  meanDelayMs: number;
  /** The schedule's centre line after the batch. */
  path: number[];
}

/**
 * Replays batches of tasks submitted together (over `submitSpreadMs`) through the learning loop
 * as a worker fleet runs it — planner, answers gathered and written every 250 ms, schedule
 * recomputed every second — in virtual time, with no I/O.
 */
export class BatchReplay {
  readonly stats = new CensoredDurations();
  readonly #prior = durationPrior(SCHEDULE);
  readonly #random: () => number;
  #policy: PollPolicy | undefined;
  #estimate: DurationEstimate | undefined;
  #clock = 0;

  constructor(seed: number) {
    this.#random = seeded(seed);
    this.#policy = this.#compute();
  }

  get policy(): PollPolicy {
    return this.#policy as PollPolicy;
  }

  run(distribution: Distribution, tasks: number, submitSpreadMs = 1500): BatchOutcome {
    interface Task {
      submittedAt: number;
      duration: number;
      polls: number;
      at: number;
      lastPollAt?: number;
    }
    const queue: Task[] = [];
    const start = this.#clock;
    let answers: PollAnswer[] = [];
    let flushedAt = start;
    let computedAt = start;
    const plan = (task: Task, now: number) => {
      const next = planNextPoll({
        schedule: SCHEDULE,
        policy: this.policy,
        startedAt: task.submittedAt,
        submittedAt: task.submittedAt,
        polls: task.polls,
        now,
        random: this.#random,
      });
      task.at = next.at;
      queue.push(task);
    };
    for (let i = 0; i < tasks; i++) {
      const submittedAt = start + (i * submitSpreadMs) / tasks;
      plan(
        { submittedAt, duration: distribution.sample(this.#random), polls: 0, at: 0 },
        submittedAt,
      );
    }
    let queries = 0;
    let delay = 0;
    while (queue.length > 0) {
      queue.sort((a, b) => a.at - b.at);
      const task = queue.shift() as Task;
      const now = task.at;
      if (now - flushedAt >= 250) {
        this.stats.add(groupAnswers(answers));
        answers = [];
        flushedAt = now;
      }
      if (now - computedAt >= 1000) {
        this.#policy = this.#compute();
        computedAt = now;
      }
      queries++;
      const elapsed = now - task.submittedAt;
      const done = elapsed >= task.duration;
      answers.push({
        from:
          task.lastPollAt === undefined ? -1 : nearestGridIndex(task.lastPollAt - task.submittedAt),
        to: nearestGridIndex(elapsed),
        done,
      });
      task.polls++;
      task.lastPollAt = now;
      if (done) delay += elapsed - task.duration;
      else plan(task, now);
    }
    this.stats.add(groupAnswers(answers));
    this.#policy = this.#compute();
    this.#clock += 3_600_000;
    return { queries: queries / tasks, meanDelayMs: delay / tasks, path: this.policy.path(0.99) };
  }

  /** As `LearnedPollTiming` does: EM from the last estimate, then the best schedule for it. */
  #compute(): PollPolicy {
    this.#estimate = estimateDurations(
      this.stats.groups(),
      this.#prior,
      this.#estimate ? { initial: this.#estimate.hazard } : {},
    );
    return new PollPolicy(this.#estimate, pollBounds(SCHEDULE));
  }
}

/** Largest relative change between the first `n` polls of two schedules. */
export function pathChange(before: readonly number[], after: readonly number[], n = 3): number {
  let change = 0;
  for (let k = 0; k < n; k++) {
    const a = before[k];
    const b = after[k];
    if (a === undefined || b === undefined) continue;
    change = Math.max(change, Math.abs(b - a) / a);
  }
  return change;
}
