import type { WorkerObserver } from './worker-observer.ts';

/** Every hook of `WorkerObserver` (the compiler insists a new hook is listed here). */
const HOOKS: Record<keyof WorkerObserver, true> = {
  drawingCall: true,
  drawingPoll: true,
  drawingFinished: true,
  imageArchive: true,
  outageWindow: true,
  cmeCall: true,
  ticketRefresh: true,
  step: true,
  deadLetter: true,
  callbackDelivery: true,
  callbackUnsent: true,
  unconfirmedSubmit: true,
};

type Hook = (event: unknown) => void;

/**
 * One observer that tells each of `observers` (in order) what it hears: a worker process
 * reports once, and its recorders (time series, metrics, a benchmark's listener) sit side by
 * side.
 */
export function combineObservers(
  ...observers: ReadonlyArray<WorkerObserver | undefined>
): WorkerObserver {
  const combined: Partial<Record<keyof WorkerObserver, Hook>> = {};
  for (const hook of Object.keys(HOOKS) as Array<keyof WorkerObserver>) {
    const listeners: Array<[WorkerObserver, Hook]> = [];
    for (const observer of observers) {
      const listener = observer?.[hook] as Hook | undefined;
      if (observer && listener) listeners.push([observer, listener]);
    }
    if (listeners.length === 0) continue;
    combined[hook] = (event) => {
      for (const [observer, listener] of listeners) listener.call(observer, event);
    };
  }
  return combined as WorkerObserver;
}
