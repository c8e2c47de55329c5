import { setTimeout as sleep } from 'node:timers/promises';
import {
  AtelierError,
  type DrawingConfig,
  type DrawingJobData,
  type DrawingJobState,
  type DrawingResult,
  type DrawingTask,
  drawingTaskSchema,
  type Outcome,
  POLL_PRIORITY,
  ProviderError,
  toIssues,
} from '@atelier/shared';
import { ImageArchiveError } from '../images/image-archive-error.ts';
import type { ImageArchiver } from '../images/image-archiver.ts';
import type { Step, StepContext, StepProcessor } from '../runtime/step.ts';
import type { WorkerObserver } from '../worker-observer.ts';
import type { SubmitHooks } from './drawing-client.ts';
import type { DrawingHealth } from './drawing-health.ts';
import { INLINE_POLL_MS, type PollPlanner } from './poll-planner.ts';
import type { SubmitJournal } from './submit-journal.ts';

/** The two provider calls a drawing job needs (`DrawingClient` implements it). */
export interface DrawingProvider {
  submit(
    task: DrawingTask,
    signal?: AbortSignal,
    hooks?: SubmitHooks,
  ): Promise<Outcome<{ taskId: string }>>;
  query(
    taskId: string,
    signal?: AbortSignal,
  ): Promise<Outcome<{ images: string[]; createTime?: string }>>;
}

export interface DrawingProcessorDeps {
  provider: DrawingProvider;
  config: DrawingConfig;
  planner: PollPlanner;
  health: DrawingHealth;
  /** Hears polls, finished tasks, unconfirmed submits and archived images (metrics, benchmarks). */
  observer: Pick<
    WorkerObserver,
    'drawingPoll' | 'drawingFinished' | 'imageArchive' | 'unconfirmedSubmit'
  >;
  /**
   * Where each taskId is written the moment its submit is answered (`ATELIER_JOURNAL_DIR`),
   * before it goes to Redis. Unset: no journal.
   */
  journal?: Pick<SubmitJournal, 'append' | 'settled'>;
  /**
   * With an image store: a finished task's images are stored before the job completes. Without
   * one the result keeps the provider's URLs only.
   */
  archiver?: ImageArchiver;
}

type DrawingStep = Step<DrawingJobData, DrawingResult>;

/**
 * An item of a paused batch waits, parked, until the resume releases it (promptly: the resume
 * promotes it); should that release be missed, it looks again this much later.
 */
const PAUSED_RECHECK_MS = 10 * 60_000;
type DrawingContext = StepContext<DrawingJobData>;

/**
 * A drawing job as a step job: intent (refused once cancelled, parked while its batch is
 * paused) → submit → journal → persist taskId → (delayed) poll →
 * … → [archive] → complete. A job that has a taskId never submits again: whatever crashed, it
 * only polls; one whose task is finished (with an image store) never polls again: it only
 * archives. One that finds its submit intent but no taskId lost a submit's outcome (an
 * unconfirmed submit): it never pays again silently. Pending tasks wait in the delayed set,
 * so polling never holds a worker slot.
 */
export class DrawingProcessor implements StepProcessor<DrawingJobData, DrawingResult> {
  readonly #deps: DrawingProcessorDeps;
  readonly #taskSchema: ReturnType<typeof drawingTaskSchema>;

  constructor(deps: DrawingProcessorDeps) {
    this.#deps = deps;
    this.#taskSchema = drawingTaskSchema(deps.config.limits);
  }

  async run(context: DrawingContext): Promise<DrawingStep> {
    const data = context.job.data;
    const state = anchored({ polls: 0, ...data.state });
    if (state.taskId && state.finished) return this.#archive(context, data, state);
    if (state.taskId) return this.#poll(context, data, state);
    return this.#submit(context, data, state);
  }

  async #submit(
    context: DrawingContext,
    data: DrawingJobData,
    state: DrawingJobState,
  ): Promise<DrawingStep> {
    const { provider, health } = this.#deps;
    if (state.submitIntentAt !== undefined) {
      // An earlier run started a submit and did not live to save its outcome.
      const started = new Date(state.submitIntentAt).toISOString();
      const lost = new ProviderError(
        `the submit started at ${started} ended without its outcome being saved (the worker stopped or lost the job)`,
        { provider: 'drawing', kind: 'retryable', code: 'SUBMIT_UNCONFIRMED' },
      );
      return this.#unconfirmed(data, withoutIntent(state), lost);
    }
    const parsed = this.#taskSchema.safeParse(data.task);
    if (!parsed.success) {
      const issues = toIssues(parsed.error.issues, 'task');
      return {
        type: 'fail',
        error: new AtelierError(
          `invalid drawing payload: ${issues.map((i) => i.message).join('; ')}`,
          { code: 'INVALID_PAYLOAD', details: { issues } },
        ),
      };
    }

    const gate = await health.gate();
    if (!gate.go) return wait(data, state, jittered(gate.until), gate.reason);

    // Submit once: the intent is saved (lock-checked) before the paid call, the taskId goes to
    // the journal in the tick its answer is read, then to the job (lock-checked). The intent's
    // script refuses it when the job or its batch was cancelled, or its batch is paused.
    const intended: DrawingJobState = { ...state, submitIntentAt: Date.now() };
    const claim = await context.claimSubmit({ ...data, state: intended });
    if (claim === 'cancelled') return { type: 'cancelled' };
    if (claim === 'paused') {
      const untilMs = Date.now() + PAUSED_RECHECK_MS;
      return { type: 'wait', reason: 'paused', untilMs, record: { ...data, state } };
    }
    const { journal } = this.#deps;
    const jobId = context.job.id ?? '';
    let answeredAt: number | undefined;
    let journaled = false;
    const outcome = await provider.submit(parsed.data, context.signal, {
      onTaskId: (taskId) => {
        answeredAt = Date.now();
        journaled = journal?.append({ jobId, taskId, submittedAt: answeredAt }) ?? false;
      },
    });
    try {
      if (outcome.kind === 'pending') {
        return this.#failure(unexpectedPending(), data, intended, context.job.priority);
      }
      if (outcome.kind === 'failed') {
        return this.#failure(outcome.error, data, intended, context.job.priority);
      }
      const submitted: DrawingJobState = {
        polls: 0,
        taskId: outcome.value.taskId,
        submittedAt: answeredAt ?? Date.now(),
      };
      if (state.unconfirmedSubmits) submitted.unconfirmedSubmits = state.unconfirmedSubmits;
      const next: DrawingJobData = { ...data, state: submitted };
      await context.save(next);
      await health.recordHealthy();
      context.logger.debug({ taskId: submitted.taskId }, 'submitted');
      return this.#schedulePoll(context, next, submitted);
    } finally {
      if (journaled) journal?.settled();
    }
  }

  /**
   * A submit whose outcome is unknown: the provider may have created (and billed) a task.
   * Counted in the job (and its history, by the runner) and in a metric; past
   * `DRAWING_UNCONFIRMED_SUBMIT_LIMIT` submits again it is dead-lettered `SUBMIT_UNCONFIRMED`
   * for a person to decide, else it is retried (a new submit, after a back-off).
   */
  #unconfirmed(data: DrawingJobData, state: DrawingJobState, cause: ProviderError): DrawingStep {
    const { config, observer } = this.#deps;
    const unconfirmed = (state.unconfirmedSubmits ?? 0) + 1;
    const record = { ...data, state: { ...state, unconfirmedSubmits: unconfirmed } };
    const giveUp = unconfirmed > config.unconfirmedSubmitLimit;
    observer.unconfirmedSubmit?.({ outcome: giveUp ? 'dead' : 'resubmit' });
    if (!giveUp) return { type: 'retry', error: cause, record };
    return {
      type: 'fail',
      error: new ProviderError(
        `${unconfirmed} submit${unconfirmed > 1 ? 's' : ''} ended without a confirmed answer (${cause.code}: ${cause.message}); ` +
          'the provider may have created — and billed — a task: not submitting again (check the provider, then replay to submit once more)',
        { provider: 'drawing', kind: 'terminal', code: 'SUBMIT_UNCONFIRMED' },
      ),
      record,
    };
  }

  async #schedulePoll(
    context: DrawingContext,
    data: DrawingJobData,
    state: DrawingJobState,
    hintMs?: number,
  ): Promise<DrawingStep> {
    const now = Date.now();
    const next = await this.#deps.planner.next(data.task, state, now, hintMs);
    if (next.pastDeadline) return this.#pollTimeout(state);
    const planned: DrawingJobState = { ...state, plan: next.plan };
    if (next.at - now <= INLINE_POLL_MS) {
      if (next.at > now) await sleep(next.at - now, undefined, { signal: context.signal });
      return this.#poll(context, { ...data, state: planned }, planned);
    }
    const priority = context.job.priority > 0 ? POLL_PRIORITY : undefined;
    return {
      type: 'wait',
      reason: 'poll',
      untilMs: next.at,
      record: { ...data, state: planned },
      ...(priority !== undefined ? { priority } : {}),
    };
  }

  async #poll(
    context: DrawingContext,
    data: DrawingJobData,
    state: DrawingJobState,
  ): Promise<DrawingStep> {
    const { provider, config, health, observer } = this.#deps;
    const taskId = state.taskId as string;
    const submittedAt = state.submittedAt ?? Date.now();
    if (Date.now() >= Math.max(submittedAt, state.resumedAt ?? 0) + config.poll.deadlineMs)
      return this.#pollTimeout(state);

    const gate = await health.gate();
    if (!gate.go) return wait(data, state, jittered(gate.until), gate.reason);

    const plannedAt = submittedAt + (state.plan?.offsetMs ?? 0);
    const lateMs = Math.max(0, Date.now() - plannedAt);
    const outcome = await provider.query(taskId, context.signal);
    const now = Date.now();
    const polled: DrawingJobState = { ...state, polls: state.polls + 1, lastPollAt: now };
    delete polled.maintenanceSince;
    const polledData: DrawingJobData = { ...data, state: polled };

    if (outcome.kind === 'failed') {
      return this.#failure(outcome.error, polledData, polled, context.job.priority);
    }
    await health.recordHealthy();
    const done = outcome.kind === 'ok';
    observer.drawingPoll?.({ done, lateMs });
    this.#deps.planner.observe(data.task, state, done, now);
    if (outcome.kind === 'pending') {
      return this.#schedulePoll(context, polledData, polled, outcome.hintMs);
    }
    observer.drawingFinished?.({ polls: polled.polls, submittedAt, finishedAt: now });
    const { images, createTime } = outcome.value;
    const finished: DrawingJobState = {
      ...polled,
      finished: { images, ...(createTime !== undefined ? { createTime } : {}), finishedAt: now },
    };
    if (this.#deps.archiver === undefined) return { type: 'complete', result: result(finished) };
    // The images are known: saved before the first download, so nothing polls this task again.
    const record: DrawingJobData = { ...data, state: finished };
    await context.save(record);
    return this.#archive(context, record, finished);
  }

  /**
   * Stores the finished task's images (resuming after those already stored), then completes.
   * A failed download or write is retried with backoff (`IMAGE_ARCHIVE_FAILED`), or dead-
   * lettered at once when trying again cannot help (too large, not an image, refused address);
   * either way the job keeps its taskId and its images, so a replay starts here again.
   */
  async #archive(
    context: DrawingContext,
    data: DrawingJobData,
    state: DrawingJobState,
  ): Promise<DrawingStep> {
    const { archiver, observer } = this.#deps;
    const finished = state.finished as NonNullable<DrawingJobState['finished']>;
    if (archiver === undefined) return { type: 'complete', result: result(state) };
    let progress: DrawingJobState = state;
    try {
      const archived = await archiver.archive(context.job.id ?? '', finished.images, {
        signal: context.signal,
        ...(state.archived ? { known: state.archived } : {}),
        onProgress: async (archivedSoFar) => {
          observer.imageArchive?.({ outcome: 'stored', bytes: archivedSoFar.at(-1)?.bytes ?? 0 });
          progress = { ...state, archived: archivedSoFar };
          await context.save({ ...data, state: progress });
        },
      });
      return { type: 'complete', result: result({ ...state, archived }) };
    } catch (error) {
      if (!(error instanceof ImageArchiveError)) throw error;
      observer.imageArchive?.({ outcome: 'failed', reason: error.reason });
      context.logger.warn(
        {
          taskId: state.taskId,
          code: error.code,
          reason: error.reason,
          retryable: error.retryable,
        },
        'archiving the images failed',
      );
      return { type: 'retry', error, record: { ...data, state: progress } };
    }
  }

  /**
   * A failed call. A submit that may have created a task is counted (and, past the limit, not
   * repeated); a maintenance answer waits without using an attempt — until maintenance has
   * lasted too long; anything else goes to the runner as it is.
   */
  async #failure(
    error: ProviderError,
    data: DrawingJobData,
    current: DrawingJobState,
    priority: number,
  ): Promise<DrawingStep> {
    const { config, health } = this.#deps;
    // A failed submit: its outcome is known (no task) unless the call may have got through.
    const submitting = !current.taskId && current.submitIntentAt !== undefined;
    const state = submitting ? withoutIntent(current) : current;
    if (submitting && submitMayHaveCreatedTask(error)) return this.#unconfirmed(data, state, error);
    if (error.kind !== 'outage') return { type: 'retry', error, record: { ...data, state } };

    const now = Date.now();
    const since = state.maintenanceSince ?? now;
    if (now - since > config.maintenanceMaxMs) {
      return {
        type: 'fail',
        error: new ProviderError(
          `provider in maintenance for over ${config.maintenanceMaxMs} ms (${error.message})`,
          {
            provider: 'drawing',
            kind: 'terminal',
            code: error.code,
            ...(error.providerMessage !== undefined
              ? { providerMessage: error.providerMessage }
              : {}),
          },
        ),
        record: { ...data, state },
      };
    }
    const window = await health.recordMaintenance(error.code, now);
    const open = window !== undefined && window.until > now;
    return {
      type: 'wait',
      reason: 'maintenance',
      untilMs: jittered(open ? window.until : now + config.maintenanceBackoffMs),
      record: { ...data, state: { ...state, maintenanceSince: since } },
      note: error,
      // An open outage window holds the whole queue: no submits or polls until it ends.
      ...(open ? { holdQueueUntilMs: window.until } : {}),
      ...(priority > 0 && state.taskId ? { priority: POLL_PRIORITY } : {}),
    };
  }

  #pollTimeout(state: DrawingJobState): DrawingStep {
    return {
      type: 'fail',
      error: new AtelierError(
        `task ${state.taskId} not finished within ${this.#deps.config.poll.deadlineMs} ms; the taskId is kept: a replay resumes polling`,
        { code: 'POLL_TIMEOUT' },
      ),
    };
  }
}

const UNSENT_ERRNOS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * The state with its task's deadline and intervals anchored on persisted times: a task whose
 * submit time is unknown (rebuilt from a dead letter filed before it was kept) takes the
 * replay's `resumedAt` — set once by the replay — instead; saved with the next record.
 */
function anchored(state: DrawingJobState): DrawingJobState {
  if (!state.taskId || state.submittedAt !== undefined) return state;
  return { ...state, submittedAt: state.resumedAt ?? Date.now() };
}

/** The state without its submit intent (the submit's outcome is known, or counted). */
function withoutIntent(state: DrawingJobState): DrawingJobState {
  const { submitIntentAt: _, ...rest } = state;
  return rest;
}

/**
 * A failed submit the provider may nevertheless have processed (and billed); one that proves
 * nothing was sent (refused connection, unknown host) or was answered (a business code) did not.
 */
function submitMayHaveCreatedTask(error: ProviderError): boolean {
  if (error.kind !== 'retryable') return false;
  const errno = (error.cause as { code?: unknown } | undefined)?.code;
  if (typeof errno === 'string' && UNSENT_ERRNOS.has(errno)) return false;
  return (
    ['TIMEOUT', 'NETWORK', 'MALFORMED_RESPONSE'].includes(error.code) ||
    error.code.startsWith('HTTP_5')
  );
}

function unexpectedPending(): ProviderError {
  return new ProviderError('submit answered without a taskId', {
    provider: 'drawing',
    kind: 'retryable',
    code: 'MALFORMED_RESPONSE',
  });
}

/** The result of a finished task (`state.finished` set), with its archived images if any. */
function result(state: DrawingJobState): DrawingResult {
  const finished = state.finished as NonNullable<DrawingJobState['finished']>;
  return {
    taskId: state.taskId as string,
    images: finished.images,
    ...(finished.createTime !== undefined ? { createTime: finished.createTime } : {}),
    polls: state.polls,
    submittedAt: state.submittedAt ?? finished.finishedAt,
    finishedAt: finished.finishedAt,
    ...(state.archived !== undefined ? { archived: state.archived } : {}),
  };
}

function wait(
  data: DrawingJobData,
  state: DrawingJobState,
  untilMs: number,
  reason: 'outage' | 'probe',
): DrawingStep {
  return { type: 'wait', reason, untilMs, record: { ...data, state } };
}

/** Spreads a herd of jobs released at one instant over the next 10% of the wait (at most 5 s). */
function jittered(until: number): number {
  const now = Date.now();
  const spread = Math.min(5000, Math.max(0, until - now) * 0.1);
  return Math.round(until + Math.random() * spread);
}
