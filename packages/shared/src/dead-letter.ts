import type { AttemptRecord, CmeOperation, JobKind, JobMeta } from './job-payloads.ts';
import type { DrawingTask } from './schemas/drawing-request.ts';

/**
 * A job that will not run again without a person deciding so. Exactly one per job id;
 * inserting the same job twice keeps the first entry.
 */
export interface DeadLetter {
  /** The job id (ids are unique across kinds). */
  id: string;
  queue: JobKind;
  kind: JobKind;
  /** Provider code (`202`, `InvalidParameterValue.MaterialId`) or ours (`POLL_TIMEOUT`). */
  code: string;
  /** Atelier's explanation. */
  message: string;
  /** The provider's message verbatim (drawing `msg`, CME `Message`). */
  providerMessage?: string;
  /** CME `EnglishMessage`. */
  providerEnglishMessage?: string;
  attempts: number;
  history: AttemptRecord[];
  /** Drawing: the provider task, kept so a replay polls instead of paying again. */
  taskId?: string;
  /** Drawing: when that task was submitted (a replay's poll schedule and result keep it). */
  submittedAt?: number;
  /**
   * Drawing: submits whose outcome was never confirmed (each may have created, and billed, a
   * task): a letter without a taskId and without these was never paid for.
   */
  unconfirmedSubmits?: number;
  request: DrawingTask | CmeOperation;
  meta: JobMeta;
  failedAt: number;
}

/**
 * The images a dead drawing never paid for, to give back to its tenant's usage: all of them
 * when it died without a task (no taskId) and without a submit whose outcome is unknown (it
 * may have created a task: kept), 0 otherwise — and 0 for work not counted on a usage day.
 */
export function unpaidImages(entry: DeadLetter): number {
  if (entry.kind !== 'drawing' || entry.meta.usageDay === undefined) return 0;
  if (entry.taskId || (entry.unconfirmedSubmits ?? 0) > 0) return 0;
  if (entry.code === 'SUBMIT_UNCONFIRMED') return 0;
  const num = (entry.request as { num?: unknown }).num;
  return typeof num === 'number' && Number.isInteger(num) && num > 0 ? num : 1;
}
