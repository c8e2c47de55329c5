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
  request: DrawingTask | CmeOperation;
  meta: JobMeta;
  failedAt: number;
}
