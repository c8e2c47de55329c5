import type { CmeAction } from './schemas/cme-operation-request.ts';
import type { DrawingTask } from './schemas/drawing-request.ts';

/** Where a job came from and where its outcome goes; set by the producer. */
export interface JobMeta {
  enqueuedAt: number;
  callbackUrl?: string;
  idempotencyKey?: string;
  batchId?: string;
  /** Position of the item in its batch (0-based, input order). */
  batchIndex?: number;
  /** How many times a dead letter of this job was replayed. */
  replays?: number;
  /** The tenant whose key enqueued it (named API keys); absent: `default` (`jobTenant`). */
  tenant?: string;
  /**
   * The UTC day (`YYYY-MM-DD`) the job's images were counted on (its tenant's usage, and quota):
   * images never paid for are given back to that day.
   */
  usageDay?: string;
}

/** One failed attempt, kept in job data so a dead letter can carry the whole story. */
export interface AttemptRecord {
  attempt: number;
  at: number;
  code: string;
  message: string;
}

/** Progress of a drawing job, written by the worker (`updateData`) as it goes. */
export interface DrawingJobState {
  /** Provider task id, persisted right after submit: its presence means "never submit again". */
  taskId?: string;
  /**
   * Set (lock-checked) just before the paid submit call, cleared with the outcome (the taskId
   * saved, or an answer that proves no task was created). A run that finds it without a
   * taskId knows an earlier submit's outcome was lost: an unconfirmed submit.
   */
  submitIntentAt?: number;
  submittedAt?: number;
  polls: number;
  lastPollAt?: number;
  /** Set when a dead letter is replayed: polling restarts its deadline from here. */
  resumedAt?: number;
  /** How the next poll was planned (lateness is measured against it). */
  plan?: PollPlan;
  /**
   * Submits whose outcome was lost in a way that may still have created a task (a timeout, a
   * lost answer, a worker that stopped between the call and saving its taskId).
   */
  unconfirmedSubmits?: number;
  /** When the current 500/501 streak for this job began (maintenance back-off). */
  maintenanceSince?: number;
  /**
   * The provider finished the task (with an image store configured): what is left is archiving
   * its images, so a retry, a crash or a replay resumes there (no submit, no poll).
   */
  finished?: FinishedTask;
  /** Images archived so far, in order (a resumed archive only checks these). */
  archived?: ArchivedImage[];
}

/** What the provider's last answer said of a finished task. */
export interface FinishedTask {
  images: string[];
  createTime?: string;
  finishedAt: number;
}

export interface PollPlan {
  /**
   * `schedule`: the learned schedule; `probe`: a first poll placed earlier to learn from;
   * `hint`: the provider's `waiting`; `interval`: fixed steps (past the schedule's horizon). Jobs
   * from before the learned schedule may carry `first` or `second` (read only for `offsetMs`).
   */
  by: 'schedule' | 'probe' | 'hint' | 'interval' | 'first' | 'second';
  /** Offset of the planned poll from submit (ms). */
  offsetMs: number;
}

export interface DrawingJobData {
  kind: 'drawing';
  task: DrawingTask;
  meta: JobMeta;
  state?: DrawingJobState;
  history?: AttemptRecord[];
}

export interface CmeOperation {
  userId: string;
  action: CmeAction;
  params: Record<string, unknown>;
}

/**
 * What a CME job has sent that cannot simply be sent again, written by the worker before the
 * call: a run that finds `createSentAt` checks whether that create landed before sending another.
 */
export interface CmeJobState {
  /** When the latest create was sent (its answer may never have arrived). */
  createSentAt?: number;
  /** Creates sent so far. */
  createsSent?: number;
}

export interface CmeJobData {
  kind: 'cme';
  operation: CmeOperation;
  meta: JobMeta;
  state?: CmeJobState;
  history?: AttemptRecord[];
}

export type JobKind = 'drawing' | 'cme';

/** One image copied into Atelier's image store (`ATELIER_IMAGE_STORE`). */
export interface ArchivedImage {
  /** `<jobId>/<n>.<ext>`: the name in the store. */
  key: string;
  /** Where Atelier's HTTP API serves it: `/v1/images/<key>`. */
  url: string;
  bytes: number;
  /** Lowercase hex SHA-256 of the bytes. */
  sha256: string;
  contentType: string;
}

/** A finished drawing. */
export interface DrawingResult {
  taskId: string;
  /** The provider's image URLs (they expire: about three months). */
  images: string[];
  createTime?: string;
  polls: number;
  submittedAt: number;
  /** When the provider was seen to have finished the task. */
  finishedAt: number;
  /** With an image store (`ATELIER_IMAGE_STORE`): every image, stored, in the order of `images`. */
  archived?: ArchivedImage[];
}

/** Who cancelled a job: a cancel of the job itself, or of its batch. */
export type CancelSource = 'job' | 'batch';

/**
 * How a cancelled job ended: stopped before it was submitted, so nothing was paid. Recorded in
 * the job (`atelierCancelled`) and, as BullMQ completes the job, its return value.
 */
export interface JobCancelled {
  cancelled: true;
  cancelledAt: number;
  by: CancelSource;
}

/** A finished CME operation: the action's `Data` (when it returns any) and what was done. */
export interface CmeResult {
  action: CmeAction;
  userId: string;
  outcome: 'done' | 'already-gone';
  /** Set when a delete found its target (material, class) already gone (counted as done). */
  alreadyGone?: true;
  /**
   * Set when a create sent again found what an earlier attempt of the job had made (its answer
   * was lost); `data` describes that (`{ClassId}`), as the create's own answer would have.
   */
  alreadyCreated?: true;
  data?: unknown;
}

/** The payload of a callback delivery job. */
export interface CallbackJobData {
  url: string;
  /** `job.completed` | `job.dead` | `batch.completed` */
  event: CallbackEvent;
  body: Record<string, unknown>;
}

export type CallbackEvent = 'job.completed' | 'job.dead' | 'batch.completed';

/** BullMQ generics per queue. */
export interface JobPayloadMap {
  drawing: { data: DrawingJobData; result: DrawingResult };
  cme: { data: CmeJobData; result: CmeResult };
  callbacks: { data: CallbackJobData; result: { status: number } };
}

export type AnyJobData = DrawingJobData | CmeJobData;
export type AnyJobResult = DrawingResult | CmeResult;
