import {
  type AtelierError,
  type AttemptRecord,
  type FailureKind,
  isProviderError,
} from '@atelier/shared';
import type { Step, WaitReason } from './step.ts';

/** What the runner knows of the job when a step comes back. */
export interface JobFacts<D> {
  /** The job's data as stored now. */
  record: D;
  /** Attempts BullMQ counted before this run. */
  attemptsMade: number;
  /** `opts.attempts`. */
  maxAttempts: number;
  now: number;
}

export interface DecisionPolicy {
  /** Attempt records kept in the job's record (newest); 0 keeps none and never rewrites it. */
  maxHistory: number;
  /**
   * Drawing and CME: a `throttled` failure slows the whole queue down (for the error's hint,
   * else `throttleMs`) and a `config` failure halts it. Unset (callbacks): a throttled failure
   * is retried like any other and a config failure ends the job.
   */
  queueWide?: { throttleMs: number };
}

/** A queue that halts re-checks a kept job this long after it was put aside. */
export const HALT_RECHECK_MS = 1000;

/**
 * What the runner does with a step. `record` is what the job's data becomes; it is written
 * only when it is not the stored record itself.
 */
export type Decision<D, R> =
  | { action: 'complete'; result: R }
  /** Save and move to the delayed set (no attempt); first hold the queue, when asked. */
  | {
      action: 'delay';
      reason: WaitReason;
      untilMs: number;
      record: D;
      priority?: number;
      holdQueueForMs?: number;
    }
  /** Slow the whole queue down (unless it already is); the job goes back to wait (no attempt). */
  | { action: 'slow-queue'; error: AtelierError; forMs: number; record: D }
  /** Halt the queue and keep the job delayed (no attempt). */
  | { action: 'halt'; error: AtelierError; untilMs: number; record: D }
  /** Count the attempt; BullMQ retries with backoff. */
  | { action: 'retry'; error: AtelierError; record: D; attempt: number; limit: number }
  /** Dead letter, then fail for good. */
  | { action: 'dead'; error: AtelierError; record: D; history: AttemptRecord[]; attempt: number }
  /** End unpaid (batch item cancelled), then complete in BullMQ with the cancel as the result. */
  | { action: 'cancelled' };

/**
 * The one decision "step + job facts → action", pure so it can be tested alone. The step
 * runner carries it out.
 */
export function decideStep<D, R>(
  step: Step<D, R>,
  facts: JobFacts<D>,
  policy: DecisionPolicy,
): Decision<D, R> {
  switch (step.type) {
    case 'complete':
      return { action: 'complete', result: step.result };
    case 'wait': {
      const record = step.note
        ? noted(step.record, { attempt: 0, at: facts.now, error: step.note }, policy)
        : step.record;
      return {
        action: 'delay',
        reason: step.reason,
        untilMs: step.untilMs,
        record,
        ...(step.priority !== undefined ? { priority: step.priority } : {}),
        ...(step.holdQueueUntilMs !== undefined && step.holdQueueUntilMs > facts.now
          ? { holdQueueForMs: step.holdQueueUntilMs - facts.now }
          : {}),
      };
    }
    case 'retry':
    case 'fail':
      return decideFailure(step, facts, policy);
    case 'cancelled':
      return { action: 'cancelled' };
  }
}

function decideFailure<D, R>(
  step: Extract<Step<D, R>, { type: 'retry' | 'fail' }>,
  facts: JobFacts<D>,
  policy: DecisionPolicy,
): Decision<D, R> {
  const { error } = step;
  const record = step.record ?? facts.record;
  const kind = failureKind(error);
  const { queueWide } = policy;
  if (step.type === 'retry' && queueWide && kind === 'throttled') {
    return {
      action: 'slow-queue',
      error,
      forMs: error.retryAfterMs ?? queueWide.throttleMs,
      record,
    };
  }
  if (step.type === 'retry' && queueWide && kind === 'config') {
    return { action: 'halt', error, untilMs: facts.now + HALT_RECHECK_MS, record };
  }

  const attempt = facts.attemptsMade + 1;
  const withHistory = noted(record, { attempt, at: facts.now, error }, policy);
  const limit = Math.min(
    facts.maxAttempts,
    isProviderError(error) && error.retryLimit ? error.retryLimit : facts.maxAttempts,
  );
  const final =
    step.type === 'fail' || kind === 'terminal' || kind === 'config' || attempt >= limit;
  if (final) {
    return {
      action: 'dead',
      error,
      record: withHistory,
      history: historyOf(withHistory),
      attempt,
    };
  }
  return { action: 'retry', error, record: withHistory, attempt, limit };
}

/** The one vocabulary of failure kinds, read off the error. */
export function failureKind(error: AtelierError): FailureKind {
  if (isProviderError(error)) return error.kind;
  return error.retryable ? 'retryable' : 'terminal';
}

/**
 * The record with one more entry in its `history` (the newest `maxHistory` kept); the record
 * itself where no history is kept.
 */
function noted<D>(
  record: D,
  entry: { attempt: number; at: number; error: AtelierError },
  policy: DecisionPolicy,
): D {
  if (policy.maxHistory <= 0) return record;
  const { attempt, at, error } = entry;
  const history = [
    ...historyOf(record),
    { attempt, at, code: error.code, message: error.message },
  ].slice(-policy.maxHistory);
  return { ...record, history };
}

function historyOf(record: unknown): AttemptRecord[] {
  return (record as { history?: AttemptRecord[] } | undefined)?.history ?? [];
}
