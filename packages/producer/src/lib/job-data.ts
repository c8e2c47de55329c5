import type {
  CmeJobData,
  DeadLetter,
  DrawingJobData,
  DrawingTask,
  JobMeta,
  ParsedCmeOperationRequest,
} from '@atelier/shared';

/** The provider fields of a drawing request (what the worker submits). */
export function drawingTask(request: DrawingTask): DrawingTask {
  return {
    text: request.text,
    style: request.style,
    resolution: request.resolution,
    num: request.num,
  };
}

/** Job meta with only the fields that are set (job data stays small and stable). */
export function jobMeta(fields: Omit<JobMeta, 'enqueuedAt'>, enqueuedAt = Date.now()): JobMeta {
  const meta: JobMeta = { enqueuedAt };
  if (fields.callbackUrl !== undefined) meta.callbackUrl = fields.callbackUrl;
  if (fields.idempotencyKey !== undefined) meta.idempotencyKey = fields.idempotencyKey;
  if (fields.batchId !== undefined) meta.batchId = fields.batchId;
  if (fields.batchIndex !== undefined) meta.batchIndex = fields.batchIndex;
  if (fields.replays !== undefined) meta.replays = fields.replays;
  if (fields.tenant !== undefined) meta.tenant = fields.tenant;
  if (fields.usageDay !== undefined) meta.usageDay = fields.usageDay;
  return meta;
}

export function drawingJobData(request: DrawingTask, meta: JobMeta): DrawingJobData {
  return { kind: 'drawing', task: drawingTask(request), meta };
}

export function cmeJobData(request: ParsedCmeOperationRequest, meta: JobMeta): CmeJobData {
  return {
    kind: 'cme',
    operation: { userId: request.userId, action: request.action, params: request.params },
    meta,
  };
}

/**
 * Job data rebuilt from a dead letter whose BullMQ job is gone (removed by retention): the
 * request, the meta with one more replay, the attempt history, and for a drawing that was
 * submitted its taskId and submit time, so the job resumes polling (deadline restarted from
 * `resumedAt`, set once here) and never pays twice. A drawing without a taskId (dead-lettered
 * before its submit was confirmed, `SUBMIT_UNCONFIRMED`) starts without any state: it submits
 * once more.
 */
export function jobDataFromDeadLetter(
  entry: DeadLetter,
  now = Date.now(),
): DrawingJobData | CmeJobData {
  const meta: JobMeta = { ...entry.meta, replays: (entry.meta.replays ?? 0) + 1 };
  if (entry.kind === 'drawing') {
    const data: DrawingJobData = {
      kind: 'drawing',
      task: entry.request as DrawingTask,
      meta,
      history: entry.history,
    };
    if (entry.taskId) {
      data.state = {
        taskId: entry.taskId,
        ...(entry.submittedAt !== undefined ? { submittedAt: entry.submittedAt } : {}),
        polls: 0,
        resumedAt: now,
      };
    }
    return data;
  }
  return {
    kind: 'cme',
    operation: entry.request as CmeJobData['operation'],
    meta,
    history: entry.history,
  };
}

/**
 * Data of a failed job about to be retried for a replay: one more replay, history kept, and a
 * drawing that has a taskId restarts its poll deadline (`resumedAt`). A drawing without one
 * loses its submit intent: an operator replaying a `SUBMIT_UNCONFIRMED` letter lets it submit
 * once more (its count of unconfirmed submits stays).
 */
export function replayedJobData<D extends DrawingJobData | CmeJobData>(
  data: D,
  entry: DeadLetter,
  now = Date.now(),
): D {
  const meta: JobMeta = { ...data.meta, replays: (data.meta.replays ?? 0) + 1 };
  if (data.kind !== 'drawing') return { ...data, meta };
  const taskId = data.state?.taskId ?? entry.taskId;
  if (!taskId) {
    if (data.state?.submitIntentAt === undefined) return { ...data, meta };
    const { submitIntentAt: _, ...state } = data.state;
    return { ...data, meta, state };
  }
  const submittedAt = data.state?.submittedAt ?? entry.submittedAt;
  return {
    ...data,
    meta,
    state: {
      polls: 0,
      ...data.state,
      taskId,
      ...(submittedAt !== undefined ? { submittedAt } : {}),
      resumedAt: now,
    },
  };
}
