import type { PaidTask } from './chaos-verdict.ts';

/** Something the harness did, with when (epoch ms). */
export interface ChaosMoment {
  at: number;
  what: 'worker-kill' | 'cut' | 'restore' | 'redis-kill' | 'redis-ready' | 'wave' | 'shutdown';
}

export interface PaidTwiceCause {
  cause: string;
  jobs: number;
  /** For kills: ms from the first paid submit to the kill, min and max. */
  rangeMs?: [number, number];
}

const LOST_ANSWER = 'answer never went out (worker killed mid-call, timeout, reset), paid again';
/** A kill this soon after a paid submit is taken as what made the job pay again. */
const KILL_WINDOW_MS = 2_000;

/**
 * For each text the provider billed more than once, what was going on at the first paid
 * submit: the shutdown wave (SIGTERM with Redis down); else an answer that never went out (its
 * worker killed mid-call, a timeout, a reset); else, answered, a proxy cut under way (or
 * starting within 2 s) or a worker SIGKILL within 2 s. Inferred from times only: a diagnosis,
 * not proof.
 */
export function explainPaidTwice(tasks: readonly PaidTask[], moments: readonly ChaosMoment[]) {
  const first = new Map<string, PaidTask>();
  const count = new Map<string, number>();
  for (const task of tasks) {
    if (!first.has(task.text)) first.set(task.text, task);
    count.set(task.text, (count.get(task.text) ?? 0) + 1);
  }
  const causes = new Map<string, PaidTwiceCause>();
  const add = (cause: string, deltaMs?: number) => {
    const entry = causes.get(cause) ?? { cause, jobs: 0 };
    entry.jobs++;
    if (deltaMs !== undefined) {
      const [min, max] = entry.rangeMs ?? [deltaMs, deltaMs];
      entry.rangeMs = [Math.min(min, deltaMs), Math.max(max, deltaMs)];
    }
    causes.set(cause, entry);
  };
  const cuts = moments.filter((m) => m.what === 'cut');
  const restores = moments.filter((m) => m.what === 'restore');
  const wave = moments.find((m) => m.what === 'wave');
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
    if (wave && at >= wave.at) add('in flight at SIGTERM with Redis down');
    else if (!task.answered) add(LOST_ANSWER);
    else if (inCut) add('answered during a proxy cut (lock lost)');
    else if (kill) add('answered, then the worker was SIGKILLed', kill.at - at);
    else add('answered, no kill or cut nearby');
  }
  return [...causes.values()].sort((a, b) => b.jobs - a.jobs);
}
