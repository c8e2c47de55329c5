import type { CallbackEvent, DeadLetter, FailureKind } from '@atelier/shared';
import type { CallbackDeliveryInfo } from './callbacks/delivery-report.ts';
import type { CmeCallEvent } from './cme/paas-client.ts';
import type { TicketRefreshEvent } from './cme/ticket-store.ts';
import type { DrawingCall } from './drawing/drawing-client.ts';
import type { ImageArchiveFailure } from './images/image-archive-error.ts';
import type { Decision } from './runtime/step-decision.ts';

/** A drawing poll as the processor saw it. */
export interface DrawingPollEvent {
  done: boolean;
  /** How late the poll ran against the time it was planned for (ms, ≥ 0). */
  lateMs: number;
}

export interface DrawingFinishedEvent {
  polls: number;
  submittedAt: number;
  finishedAt: number;
}

/**
 * A drawing submit whose outcome was lost (the provider may have billed a task), and what came
 * of its job: submitted again (within `DRAWING_UNCONFIRMED_SUBMIT_LIMIT`) or dead-lettered
 * `SUBMIT_UNCONFIRMED`.
 */
export interface UnconfirmedSubmitEvent {
  outcome: 'resubmit' | 'dead';
}

/** One image of a finished drawing stored, or one archive run that failed. */
export type ImageArchiveEvent =
  | { outcome: 'stored'; bytes: number }
  | { outcome: 'failed'; reason: ImageArchiveFailure };

export interface StepEvent {
  queue: string;
  step: 'done' | 'wait' | 'fail' | 'cancelled';
  /** What the runner made of it (`retry`: the attempt failed and BullMQ tries again). */
  action: Decision<unknown, unknown>['action'];
  kind?: FailureKind;
  code?: string;
  /** `done` only: from enqueue to completion (ms). */
  ageMs?: number;
  /** `done` only: whose job it was (`jobTenant`). */
  tenant?: string;
  /** `done` only, drawings: how many images the result holds. */
  images?: number;
}

/**
 * Everything a worker process reports about its work, in one place: metrics implement it,
 * benchmarks and tests listen to it. Every hook is optional and must not throw.
 */
export interface WorkerObserver {
  drawingCall?(call: DrawingCall): void;
  drawingPoll?(event: DrawingPollEvent): void;
  drawingFinished?(event: DrawingFinishedEvent): void;
  unconfirmedSubmit?(event: UnconfirmedSubmitEvent): void;
  imageArchive?(event: ImageArchiveEvent): void;
  outageWindow?(open: boolean): void;
  cmeCall?(event: CmeCallEvent): void;
  ticketRefresh?(event: TicketRefreshEvent): void;
  step?(event: StepEvent): void;
  deadLetter?(entry: DeadLetter): void;
  callbackDelivery?(info: CallbackDeliveryInfo): void;
  /** A finishing job asked for a callback this worker cannot send (no signing secret). */
  callbackUnsent?(event: CallbackEvent): void;
}
