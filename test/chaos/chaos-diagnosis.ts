import type { PaidTask } from './chaos-verdict.ts';

/** Something the harness did, with when (epoch ms). */
export interface ChaosMoment {
  at: number;
  what:
    | 'worker-kill'
    | 'cut'
    | 'restore'
    | 'redis-kill'
    | 'redis-ready'
    | 'wave'
    | 'shutdown'
    /** A provider storm that answers some calls after the request timeout began / ended. */
    | 'late-answers'
    | 'calm';
}

export interface PaidTwiceCause {
  cause: string;
  jobs: number;
  /** For kills: ms from the first paid submit to the kill, min and max. */
  rangeMs?: [number, number];
  /** The first few texts (each names its job's label). */
  samples: string[];
}

const TIMED_OUT = 'answered after the timeout (storm), submitted again';
const DIED_MID_CALL = 'answer never went out (its worker died mid-call), submitted again';
/** A kill this soon after a paid submit is taken as what made the job pay again. */
const KILL_WINDOW_MS = 2_000;

/**
 * For each text the provider billed more than once, what was going on at the first paid
 * submit: the shutdown wave (SIGTERM with Redis down); else, if its answer never went out, a
 * storm of late answers (the worker timed out) or else a worker that died mid-call; else
 * (answered) a proxy cut under way (or starting within 2 s) or a worker SIGKILL within 2 s.
 * Inferred from times only: a diagnosis, not proof.
 */
export function explainPaidTwice(tasks: readonly PaidTask[], moments: readonly ChaosMoment[]) {
  const first = new Map<string, PaidTask>();
  const count = new Map<string, number>();
  for (const task of tasks) {
    if (!first.has(task.text)) first.set(task.text, task);
    count.set(task.text, (count.get(task.text) ?? 0) + 1);
  }
  const causes = new Map<string, PaidTwiceCause>();
  const add = (cause: string, text: string, deltaMs?: number) => {
    const entry = causes.get(cause) ?? { cause, jobs: 0, samples: [] };
    entry.jobs++;
    if (entry.samples.length < 3) entry.samples.push(text);
    if (deltaMs !== undefined) {
      const [min, max] = entry.rangeMs ?? [deltaMs, deltaMs];
      entry.rangeMs = [Math.min(min, deltaMs), Math.max(max, deltaMs)];
    }
    causes.set(cause, entry);
  };
  const cuts = moments.filter((m) => m.what === 'cut');
  const restores = moments.filter((m) => m.what === 'restore');
  const wave = moments.find((m) => m.what === 'wave');
  const redisKills = moments.filter((m) => m.what === 'redis-kill');
  const redisReady = moments.filter((m) => m.what === 'redis-ready');
  const late = moments.filter((m) => m.what === 'late-answers');
  const calms = moments.filter((m) => m.what === 'calm');
  const lateAt = (at: number) =>
    late.some((m) => at >= m.at && at <= (calms.find((c) => c.at >= m.at)?.at ?? Infinity));
  for (const [text, task] of first) {
    if ((count.get(text) ?? 0) < 2) continue;
    const at = task.submittedAtMs;
    const kill = moments.find(
      (m) => m.what === 'worker-kill' && m.at >= at && m.at - at <= KILL_WINDOW_MS,
    );
    const inCut = cuts.some((cut, i) => {
      const end = restores[i]?.at ?? Number.POSITIVE_INFINITY;
      return at >= cut.at - KILL_WINDOW_MS && at <= end;
    });
    const redisDown = redisKills.some((kill, i) => {
      const back = redisReady[i]?.at ?? Number.POSITIVE_INFINITY;
      return at >= kill.at - KILL_WINDOW_MS && at <= back;
    });
    if (wave && at >= wave.at) add('in flight at SIGTERM with Redis down', text);
    else if (!task.answered) add(lateAt(at) ? TIMED_OUT : DIED_MID_CALL, text);
    else if (inCut) add('answered during a proxy cut (lock lost)', text);
    else if (kill) add('answered, then the worker was SIGKILLed', text, kill.at - at);
    else if (redisDown) add('answered as Redis was SIGKILLed', text);
    else add('answered, no kill, cut or Redis restart nearby', text);
  }
  return [...causes.values()].sort((a, b) => b.jobs - a.jobs);
}
