import type { AnyJobResult, JobKind } from '@atelier/shared';

/**
 * Where a job is, in the words of the HTTP contract:
 * - `queued`: not started yet
 * - `running`: a worker has it (BullMQ active)
 * - `polling`: submitted to the provider (a drawing with a taskId), waiting for the next poll
 * - `retrying`: backing off (or waiting again) after a transient failure
 * - `completed`: done; `result` holds the outcome
 * - `dead`: in the dead-letter queue (or failed and about to be); `error` says why
 * - `cancelled`: stopped before it was paid for (a cancel of the job or its batch); `error` is
 *   `{code: 'CANCELLED', message}` (as for an operation cancelled in other APIs)
 */
export type JobState =
  | 'queued'
  | 'running'
  | 'polling'
  | 'retrying'
  | 'completed'
  | 'dead'
  | 'cancelled';

export const JOB_STATES: readonly JobState[] = [
  'queued',
  'running',
  'polling',
  'retrying',
  'completed',
  'dead',
  'cancelled',
];

/** The states a job ends in: each is answered only together with its outcome (`isSettled`). */
export type TerminalJobState = Extract<JobState, 'completed' | 'dead' | 'cancelled'>;

export const TERMINAL_STATES: readonly TerminalJobState[] = ['completed', 'dead', 'cancelled'];

export function isTerminalState(state: JobState): state is TerminalJobState {
  return (TERMINAL_STATES as readonly JobState[]).includes(state);
}

export interface JobStatus {
  id: string;
  kind: JobKind;
  state: JobState;
  /** Attempts made so far, BullMQ `attemptsMade` (the one that completed counts; waits for polls do not). */
  attempts: number;
  result?: AnyJobResult;
  /** `dead`: why; `cancelled`: `CANCELLED` and who cancelled; `retrying`: the last transient failure. */
  error?: { code: string; message: string };
}
