import {
  type AnyJobData,
  AtelierError,
  type AttemptRecord,
  type CmeResult,
  type DrawingResult,
  type FailureKind,
  hasCode,
  isProviderError,
  type Logger,
  lazyChild,
} from '@atelier/shared';
import {
  type DeadLetterStore,
  LIMITER_MAX,
  type QueueHalt,
  type RecentErrors,
} from '@atelier/store';
import {
  DelayedError,
  type Job,
  type Processor,
  type Queue,
  UnrecoverableError,
  WaitingError,
  Worker,
} from 'bullmq';
import type { StepEvent } from '../worker-observer.ts';
import { moveToDelayedWithData } from './delayed-move.ts';
import type { JobSettlement } from './job-settlement.ts';
import type { Step, StepProcessor } from './step.ts';

export interface JobRunnerOptions {
  queue: Queue;
  settlement: JobSettlement;
  deadLetters: DeadLetterStore;
  halt: QueueHalt;
  logger: Logger;
  /** Queue-wide pause after a throttling answer without its own hint. */
  throttleMs: number;
  /** Attempt records kept per job (newest). */
  maxHistory?: number;
  /** Where failure codes are recorded for the dashboard. */
  recentErrors?: RecentErrors;
  /** Observes every step (metrics). */
  onStep?: (event: StepEvent) => void;
}

const DEFAULT_MAX_HISTORY = 20;

/**
 * THE place where a processor's decision becomes BullMQ control flow:
 * - done → settle (batch, callback), complete
 * - wait → save data + move to delayed in one script, `DelayedError` (slot freed, no attempt used)
 * - throttled → `queue.rateLimit`, `RateLimitError` (job back to wait, no attempt used)
 * - config → pause the queue (`QueueHalt`), keep the job delayed
 * - retryable/auth/outage → record the attempt, throw for BullMQ backoff; dead letter at the limit
 * - terminal → dead letter, `UnrecoverableError`
 * Unexpected exceptions count as retryable `INTERNAL` failures; a malformed payload never
 * crashes the worker.
 */
export function createJobProcessor<D extends AnyJobData, R extends DrawingResult | CmeResult>(
  processor: StepProcessor<D, R>,
  options: JobRunnerOptions,
): Processor<D, R> {
  const maxHistory = options.maxHistory ?? DEFAULT_MAX_HISTORY;
  const queueName = options.queue.name;

  return async (job: Job<D>, token?: string, signal?: AbortSignal): Promise<R> => {
    const lockToken = token ?? '';
    const logger = lazyChild(options.logger, { jobId: job.id, attempt: job.attemptsMade + 1 });
    // A job can only be dead-lettered after a failed attempt was recorded in its history (or,
    // filed by the reconciler, it has been replayed since); other jobs skip the look-up (the
    // hot path of healthy jobs).
    if (job.id && (job.data.history?.length || job.data.meta.replays)) {
      const filed = await options.deadLetters.get(job.id);
      if (filed && (filed.meta.replays ?? 0) >= (job.data.meta.replays ?? 0)) {
        // A previous run dead-lettered it and died before BullMQ recorded the failure.
        throw new UnrecoverableError('[ALREADY_DEAD] the job is already in the dead-letter queue');
      }
      if (filed) {
        // Filed before the replay that queued this run, which has not removed it yet (or
        // died before it could): that filing is over.
        await options.deadLetters.remove(job.id, filed);
      }
    }

    let step: Step<D, R>;
    try {
      step = await processor({
        job,
        token: lockToken,
        signal: signal ?? new AbortController().signal,
        logger,
      });
    } catch (error) {
      if (signal?.aborted) {
        // Cancelled (shutdown past its grace period): hand the job back untouched; no attempt used.
        logger.warn(
          { reason: String(signal.reason ?? 'aborted') },
          'job cancelled: handing it back to the queue',
        );
        await job.moveToWait(lockToken);
        throw new WaitingError('handed back');
      }
      logger.error({ err: error }, 'processor failed unexpectedly');
      step = { type: 'fail', error: toAtelierError(error) };
    }

    switch (step.type) {
      case 'done': {
        await options.settlement.completed(job as Job<AnyJobData>, step.result);
        options.onStep?.({ queue: queueName, step: 'done', ageMs: Date.now() - job.timestamp });
        return step.result;
      }
      case 'wait': {
        await moveToDelayedWithData(job, lockToken, step.untilMs, step.data, step.priority);
        options.onStep?.({ queue: queueName, step: 'wait' });
        throw new DelayedError(
          `waiting (${step.reason}) until ${new Date(step.untilMs).toISOString()}`,
        );
      }
      case 'fail':
        return fail(job, lockToken, step.error, step.data ?? job.data, logger);
    }
  };

  async function fail(
    job: Job<D>,
    token: string,
    error: AtelierError,
    data: D,
    logger: Logger,
  ): Promise<never> {
    const kind = failureKind(error);
    options.onStep?.({ queue: queueName, step: 'fail', kind, code: error.code });
    await options.recentErrors
      ?.record({ at: Date.now(), queue: queueName, jobId: job.id ?? '', code: error.code, kind })
      .catch((err) => logger.warn({ err }, 'could not record the error code'));

    if (kind === 'throttled') {
      // One pause per storm: answers that arrive during a pause do not push its end further out.
      if ((await options.queue.getRateLimitTtl(LIMITER_MAX)) <= 0) {
        await options.queue.rateLimit(error.retryAfterMs ?? options.throttleMs);
      }
      if (data !== job.data) await job.updateData(data);
      logger.warn({ code: error.code }, 'provider throttled us: queue slowed down');
      throw Worker.RateLimitError();
    }
    if (kind === 'config') {
      await options.halt.halt(error);
      await moveToDelayedWithData(job, token, Date.now() + 1000, data);
      throw new DelayedError('queue halted');
    }

    const attempt = job.attemptsMade + 1;
    const history = appendHistory(
      data.history,
      { attempt, at: Date.now(), code: error.code, message: error.message },
      maxHistory,
    );
    const withHistory = { ...data, history } as D;
    const maxAttempts = job.opts.attempts ?? 1;
    const limit = Math.min(
      maxAttempts,
      isProviderError(error) && error.retryLimit ? error.retryLimit : maxAttempts,
    );

    if (kind === 'terminal' || attempt >= limit) {
      job.data = withHistory;
      await job.updateData(withHistory);
      await options.settlement.dead(job as Job<AnyJobData>, error, history);
      throw new UnrecoverableError(`[${error.code}] ${error.message}`);
    }

    await job.updateData(withHistory);
    logger.info(
      { code: error.code, kind, nextAttempt: attempt + 1, of: limit },
      'attempt failed; will retry',
    );
    throw new AtelierError(`[${error.code}] ${error.message}`, {
      code: error.code,
      retryable: true,
      ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    });
  }
}

function failureKind(error: AtelierError): FailureKind {
  if (isProviderError(error)) return error.kind;
  return error.retryable ? 'retryable' : 'terminal';
}

function appendHistory(
  previous: AttemptRecord[] | undefined,
  record: AttemptRecord,
  max: number,
): AttemptRecord[] {
  return [...(previous ?? []), record].slice(-max);
}

/** Any thrown value as a retryable `INTERNAL` error (keeps a code the thrower set). */
export function toAtelierError(error: unknown): AtelierError {
  if (error instanceof AtelierError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = hasCode(error) && /^[A-Z][A-Z0-9_.]+$/.test(error.code) ? error.code : 'INTERNAL';
  return new AtelierError(message, { code, retryable: true, cause: error });
}
