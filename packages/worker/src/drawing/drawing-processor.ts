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
import type { Step, StepContext, StepProcessor } from '../runtime/step.ts';
import type { DrawingHealth } from './drawing-health.ts';
import { LearnedPollTiming } from './learned-poll-timing.ts';
import { INLINE_POLL_MS, planNextPoll } from './poll-planner.ts';

/** The two provider calls a drawing job needs (`DrawingClient` implements it). */
export interface DrawingProvider {
  submit(task: DrawingTask, signal?: AbortSignal): Promise<Outcome<{ taskId: string }>>;
  query(
    taskId: string,
    signal?: AbortSignal,
  ): Promise<Outcome<{ images: string[]; createTime?: string }>>;
}

export interface DrawingProcessorOptions {
  provider: DrawingProvider;
  config: DrawingConfig;
  timing: LearnedPollTiming;
  health: DrawingHealth;
  /** Observes finished tasks (metrics, benchmarks). */
  onFinished?: (info: { polls: number; submittedAt: number; finishedAt: number }) => void;
  onPoll?: (info: { done: boolean; lateMs: number }) => void;
}

type DrawingStep = Step<DrawingJobData, DrawingResult>;

/**
 * A drawing job as a step job: submit → persist taskId → (delayed) poll → … → done.
 * A job that has a taskId never submits again: whatever crashed, it only polls. Pending
 * tasks wait in the delayed set, so polling never holds a worker slot.
 */
export function createDrawingProcessor(
  options: DrawingProcessorOptions,
): StepProcessor<DrawingJobData, DrawingResult> {
  const { provider, config, timing, health } = options;
  const taskSchema = drawingTaskSchema(config.limits);

  return async (context) => {
    const { job } = context;
    const data = job.data;
    const state: DrawingJobState = { polls: 0, ...data.state };
    if (state.taskId) return poll(context, data, state);

    const parsed = taskSchema.safeParse(data.task);
    if (!parsed.success) {
      const issues = toIssues(parsed.error.issues, 'task');
      return fail(
        new AtelierError(`invalid drawing payload: ${issues.map((i) => i.message).join('; ')}`, {
          code: 'INVALID_PAYLOAD',
          details: { issues },
        }),
      );
    }

    const gate = await health.gate();
    if (!gate.go) return wait(data, state, jittered(gate.until), gate.reason);

    let outcome: Awaited<ReturnType<DrawingProvider['submit']>>;
    try {
      outcome = await provider.submit(parsed.data, context.signal);
    } catch (error) {
      if (context.signal.aborted) {
        // Cancelled mid-submit: the provider may have created the task; count it as unconfirmed.
        const next = {
          ...data,
          state: { ...state, unconfirmedSubmits: (state.unconfirmedSubmits ?? 0) + 1 },
        };
        await job.updateData(next);
      }
      throw error;
    }
    if (outcome.kind === 'pending') return fail(unexpectedPending());
    if (outcome.kind !== 'ok') return failure(outcome, data, state, job.priority);

    // Submit once: the taskId is saved before anything else can happen to this job.
    const submitted: DrawingJobState = {
      polls: 0,
      taskId: outcome.value.taskId,
      submittedAt: Date.now(),
    };
    if (state.unconfirmedSubmits) submitted.unconfirmedSubmits = state.unconfirmedSubmits;
    const next: DrawingJobData = { ...data, state: submitted };
    await job.updateData(next);
    job.data = next;
    await health.recordHealthy();
    context.logger.debug({ taskId: submitted.taskId }, 'submitted');
    return schedulePoll(context, next, submitted);
  };

  async function schedulePoll(
    context: StepContext<DrawingJobData>,
    data: DrawingJobData,
    state: DrawingJobState,
    hintMs?: number,
  ): Promise<DrawingStep> {
    const now = Date.now();
    const submittedAt = state.submittedAt ?? now;
    const learned = await timing.times(
      LearnedPollTiming.shape(data.task.resolution, data.task.num),
    );
    const next = planNextPoll({
      schedule: config.poll,
      learned,
      startedAt: Math.max(submittedAt, state.resumedAt ?? 0),
      submittedAt,
      polls: state.polls,
      ...(hintMs !== undefined ? { hintMs } : {}),
      now,
    });
    if (next.pastDeadline) return pollTimeout(state);
    const planned: DrawingJobState = { ...state, plan: next.plan };
    if (next.at - now <= INLINE_POLL_MS) {
      if (next.at > now) await sleep(next.at - now, undefined, { signal: context.signal });
      return poll(context, { ...data, state: planned }, planned);
    }
    const priority = context.job.priority > 0 ? POLL_PRIORITY : undefined;
    return {
      type: 'wait',
      untilMs: next.at,
      data: { ...data, state: planned },
      reason: 'poll',
      ...(priority !== undefined ? { priority } : {}),
    };
  }

  async function poll(
    context: StepContext<DrawingJobData>,
    data: DrawingJobData,
    state: DrawingJobState,
  ): Promise<DrawingStep> {
    const taskId = state.taskId as string;
    const submittedAt = state.submittedAt ?? Date.now();
    if (Date.now() >= Math.max(submittedAt, state.resumedAt ?? 0) + config.poll.deadlineMs)
      return pollTimeout(state);

    const gate = await health.gate();
    if (!gate.go) return wait(data, state, jittered(gate.until), gate.reason);

    const plannedAt = submittedAt + (state.plan?.offsetMs ?? 0);
    const lateMs = Math.max(0, Date.now() - plannedAt);
    const outcome = await provider.query(taskId, context.signal);
    const now = Date.now();
    const polled: DrawingJobState = { ...state, polls: state.polls + 1, lastPollAt: now };
    delete polled.maintenanceSince;
    const polledData: DrawingJobData = { ...data, state: polled };

    if (outcome.kind === 'ok' || outcome.kind === 'pending') {
      await health.recordHealthy();
      const done = outcome.kind === 'ok';
      options.onPoll?.({ done, lateMs });
      learn(data, state, done, now - submittedAt);
      if (outcome.kind === 'pending')
        return schedulePoll(context, polledData, polled, outcome.hintMs);
      options.onFinished?.({ polls: polled.polls, submittedAt, finishedAt: now });
      return {
        type: 'done',
        result: {
          taskId,
          images: outcome.value.images,
          ...(outcome.value.createTime !== undefined
            ? { createTime: outcome.value.createTime }
            : {}),
          polls: polled.polls,
          submittedAt,
          finishedAt: now,
        },
      };
    }
    return failure(outcome, polledData, polled, context.job.priority);
  }

  function learn(data: DrawingJobData, state: DrawingJobState, done: boolean, elapsedMs: number) {
    const plan = state.plan;
    if (plan?.by !== 'first' && plan?.by !== 'second') return;
    const shape = LearnedPollTiming.shape(data.task.resolution, data.task.num);
    timing.observe(shape, plan.by, done, plan.offsetMs, done ? elapsedMs : undefined);
  }

  async function failure(
    outcome: Exclude<Outcome<unknown>, { kind: 'ok' | 'pending' }>,
    data: DrawingJobData,
    state: DrawingJobState,
    priority: number,
  ): Promise<DrawingStep> {
    const { error } = outcome;
    if (!state.taskId && submitMayHaveCreatedTask(error)) {
      const unconfirmed = (state.unconfirmedSubmits ?? 0) + 1;
      const counted: DrawingJobState = { ...state, unconfirmedSubmits: unconfirmed };
      if (unconfirmed >= config.unconfirmedSubmitLimit) {
        return fail(
          new ProviderError(
            `${unconfirmed} submits ended without a readable answer (${error.code}); the provider may have ` +
              'created tasks for them: not submitting again (replay to try once more)',
            { provider: 'drawing', kind: 'terminal', code: 'SUBMIT_UNCONFIRMED' },
          ),
          { ...data, state: counted },
        );
      }
      return fail(error, { ...data, state: counted });
    }
    if (outcome.kind !== 'outage') return fail(error, { ...data, state });

    const now = Date.now();
    const since = state.maintenanceSince ?? now;
    if (now - since > config.maintenanceMaxMs) {
      return fail(
        new ProviderError(
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
        { ...data, state },
      );
    }
    const window = await health.recordMaintenance(error.code, now);
    const until = window && window.until > now ? window.until : now + config.maintenanceBackoffMs;
    const waiting: DrawingJobState = { ...state, maintenanceSince: since };
    const history = [
      ...(data.history ?? []),
      { attempt: 0, at: now, code: error.code, message: error.message },
    ].slice(-20);
    return {
      type: 'wait',
      untilMs: jittered(until),
      data: { ...data, state: waiting, history },
      reason: 'maintenance',
      ...(priority > 0 && state.taskId ? { priority: POLL_PRIORITY } : {}),
    };
  }

  function pollTimeout(state: DrawingJobState): DrawingStep {
    return fail(
      new AtelierError(
        `task ${state.taskId} not finished within ${config.poll.deadlineMs} ms; the taskId is kept: a replay resumes polling`,
        { code: 'POLL_TIMEOUT' },
      ),
    );
  }
}

const UNSENT_ERRNOS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** A failed submit the provider may nevertheless have processed (and billed). */
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

function wait(
  data: DrawingJobData,
  state: DrawingJobState,
  untilMs: number,
  reason: 'outage' | 'probe',
): DrawingStep {
  return { type: 'wait', untilMs, data: { ...data, state }, reason };
}

function fail(error: AtelierError, data?: DrawingJobData): DrawingStep {
  return data ? { type: 'fail', error, data } : { type: 'fail', error };
}

/** Spreads a herd of jobs released at one instant over the next 10% of the wait (at most 5 s). */
function jittered(until: number): number {
  const now = Date.now();
  const spread = Math.min(5000, Math.max(0, until - now) * 0.1);
  return Math.round(until + Math.random() * spread);
}
