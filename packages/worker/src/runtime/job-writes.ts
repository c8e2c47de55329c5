import type { AtelierError, AttemptRecord, DeadLetter, JobCancelled } from '@atelier/shared';
import {
  type JobFence,
  type JobLock,
  jobLock,
  LockLostError,
  type RecordedEnding,
  type SubmitClaim,
} from '@atelier/store';
import type { Job } from 'bullmq';

/**
 * What must happen when a job reaches its end (`JobSettlement` for drawing and CME jobs),
 * each write made only while `lock` holds.
 */
export interface JobEnding<D, R> {
  completed(job: Job<D>, result: R, lock: JobLock): Promise<void>;
  dead(
    job: Job<D>,
    error: AtelierError,
    history: AttemptRecord[],
    attempts: number,
    lock: JobLock,
  ): Promise<unknown>;
  /** The steps after filing a dead letter (batch item, callback), again: all idempotent. */
  finishDead(entry: DeadLetter, lock: JobLock): Promise<void>;
  /** Ends a job whose submit a cancel refused, unpaid (batch item); idempotent. */
  cancelled(job: Job<D>, lock: JobLock): Promise<JobCancelled>;
  /** The end an earlier run of the job settled, if any. */
  ending(job: Job<D>): Promise<RecordedEnding>;
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

/** BullMQ's codes for a job whose lock is missing or held by another token (`ErrorCode`). */
const LOCK_ERROR_CODES = new Set([-2, -6]);

/**
 * Every write a running job makes, in one place: its record, its move to the delayed set or
 * back to wait, and its settlement. Each one checks, in the script that makes it, that this
 * worker still holds the job's lock (its token is kept here): a worker that lost the job
 * (cut off from Redis longer than the lock) gets a `LockLostError` instead of overwriting the
 * new owner's work.
 */
export class JobWrites<D, R> {
  readonly lock: JobLock;
  readonly #job: Job<D>;
  readonly #fence: JobFence;
  readonly #ending: JobEnding<D, R> | undefined;

  constructor(job: Job<D>, token: string, fence: JobFence, ending?: JobEnding<D, R>) {
    this.#job = job;
    this.lock = jobLock(job, token);
    this.#fence = fence;
    this.#ending = ending;
  }

  /** Saves the record, unless it is the stored one. */
  async save(record: D): Promise<void> {
    if (record === this.#job.data) return;
    await this.#fence.save(this.lock, JSON.stringify(record));
    this.#job.data = record;
  }

  /**
   * Saves the record (and optionally priority) and moves the active job to the delayed set in
   * ONE Redis script, without consuming an attempt. BullMQ's `moveToDelayed` script accepts
   * fields to update (and checks the lock token), but `Job.moveToDelayed` does not expose
   * them; we reach the backend (pinned bullmq 6.x) and fall back to three fenced calls when
   * it is not there.
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
      await this.#bullmq('moving it to the delayed set', () =>
        backend.moveToDelayed(job.id as string, now, delay, this.lock.token, {
          skipAttempt: true,
          fieldsToUpdate: fields,
        }),
      );
      job.data = record;
      job.delay = delay;
      if (priority !== undefined) job.priority = priority;
      return;
    }
    await this.save(record);
    if (priority !== undefined) await job.changePriority({ priority });
    await this.#bullmq('moving it to the delayed set', () =>
      job.moveToDelayed(untilMs, this.lock.token),
    );
  }

  /**
   * Saves the record of a submit about to start, only if no cancel or pause forbids it (one
   * script with the lock check, `JobFence.claimSubmit`).
   */
  async claimSubmit(record: D): Promise<SubmitClaim> {
    const batchId = (record as { meta?: { batchId?: string } }).meta?.batchId;
    const claim = await this.#fence.claimSubmit(this.lock, JSON.stringify(record), batchId);
    if (claim === 'granted') this.#job.data = record;
    return claim;
  }

  /** Hands the job back to the queue untouched (no attempt used). */
  async handBack(): Promise<void> {
    await this.#bullmq('handing it back', () => this.#job.moveToWait(this.lock.token));
  }

  /** Settles a completed job (batch, callback) before BullMQ records the completion. */
  async completed(result: R): Promise<void> {
    await this.#ending?.completed(this.#job, result, this.lock);
  }

  /** Saves the final record and settles a dead job (dead letter, batch, callback). */
  async dead(record: D, error: AtelierError, history: AttemptRecord[]): Promise<void> {
    await this.save(record);
    await this.#ending?.dead(this.#job, error, history, this.#job.attemptsMade + 1, this.lock);
  }

  /** Ends a job a cancel stopped at its submit, unpaid; what BullMQ completes it with. */
  async cancelled(): Promise<JobCancelled> {
    if (!this.#ending) throw new Error('a job without settlement cannot be cancelled');
    return this.#ending.cancelled(this.#job, this.lock);
  }

  /** Finishes settling a job an earlier run dead-lettered (batch item, callback). */
  async finishDead(entry: DeadLetter): Promise<void> {
    await this.#ending?.finishDead(entry, this.lock);
  }

  /** A BullMQ move (which checks the lock token itself), its lock errors as `LockLostError`. */
  async #bullmq(what: string, move: () => Promise<unknown>): Promise<void> {
    try {
      await move();
    } catch (error) {
      const code = (error as { code?: unknown } | undefined)?.code;
      if (typeof code === 'number' && LOCK_ERROR_CODES.has(code)) {
        throw new LockLostError(this.lock.jobId, what);
      }
      throw error;
    }
  }
}
