import type { AtelierError, AttemptRecord } from '@atelier/shared';
import type { Job } from 'bullmq';

/** What must happen when a job reaches its end (`JobSettlement` for drawing and CME jobs). */
export interface JobEnding<D, R> {
  completed(job: Job<D>, result: R): Promise<void>;
  dead(job: Job<D>, error: AtelierError, history: AttemptRecord[]): Promise<unknown>;
}

interface DelayBackend {
  moveToDelayed(
    jobId: string,
    timestamp: number,
    delay: number,
    token: string,
    opts: { skipAttempt?: boolean; fieldsToUpdate?: Record<string, string> },
  ): Promise<unknown>;
}

/**
 * Every write a running job makes, in one place: its record, its move to the delayed set or
 * back to wait, and its settlement. Each one is made by the worker holding the job's lock,
 * whose token is kept here.
 */
export class JobWrites<D, R> {
  readonly #job: Job<D>;
  readonly #token: string;
  readonly #ending: JobEnding<D, R> | undefined;

  constructor(job: Job<D>, token: string, ending?: JobEnding<D, R>) {
    this.#job = job;
    this.#token = token;
    this.#ending = ending;
  }

  /** Saves the record, unless it is the stored one. */
  async save(record: D): Promise<void> {
    if (record === this.#job.data) return;
    await this.#job.updateData(record);
  }

  /**
   * Saves the record (and optionally priority) and moves the active job to the delayed set in
   * ONE Redis script, without consuming an attempt. BullMQ's `moveToDelayed` script accepts
   * fields to update, but `Job.moveToDelayed` does not expose them; we reach the backend
   * (pinned bullmq 6.x) and fall back to two calls when it is not there.
   */
  async delay(untilMs: number, record: D, priority?: number): Promise<void> {
    const job = this.#job;
    const now = Date.now();
    const delay = Math.max(0, untilMs - now);
    const fields: Record<string, string> = { data: JSON.stringify(record) };
    if (priority !== undefined) fields.priority = String(priority);
    // biome-ignore lint/suspicious/noExplicitAny: reaching the protected backend of a pinned BullMQ version.
    const backend = (job as any).backend as DelayBackend | undefined;
    if (backend && typeof backend.moveToDelayed === 'function' && job.id) {
      await backend.moveToDelayed(job.id, now, delay, this.#token, {
        skipAttempt: true,
        fieldsToUpdate: fields,
      });
      job.data = record;
      job.delay = delay;
      if (priority !== undefined) job.priority = priority;
      return;
    }
    await job.updateData(record);
    if (priority !== undefined) await job.changePriority({ priority });
    await job.moveToDelayed(untilMs, this.#token);
  }

  /** Hands the job back to the queue untouched (no attempt used). */
  async handBack(): Promise<void> {
    await this.#job.moveToWait(this.#token);
  }

  /** Settles a completed job (batch, callback) before BullMQ records the completion. */
  async completed(result: R): Promise<void> {
    await this.#ending?.completed(this.#job, result);
  }

  /** Saves the final record and settles a dead job (dead letter, batch, callback). */
  async dead(record: D, error: AtelierError, history: AttemptRecord[]): Promise<void> {
    await this.save(record);
    await this.#ending?.dead(this.#job, error, history);
  }
}
