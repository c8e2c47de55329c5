import { CME_ACTIONS, metricCode, OTHER_CODE } from '@atelier/shared';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkerObserver } from '../worker-observer.ts';

const CME_OPERATIONS: ReadonlySet<string> = new Set(CME_ACTIONS);
const CALLBACK_EVENTS: ReadonlySet<string> = new Set([
  'job.completed',
  'job.dead',
  'batch.completed',
]);

/** `value` when it is one of `values`, else `other`. */
function known(values: ReadonlySet<string>, value: string): string {
  return values.has(value) ? value : OTHER_CODE;
}

const SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

/**
 * Prometheus figures of one worker process (its own registry, served on
 * `WORKER_METRICS_PORT`): provider calls by operation and code, polls per task, poll
 * lateness, unconfirmed submits, ticket refreshes, dead letters by code, callback deliveries (and callbacks that
 * could not be sent), job durations.
 * Labels never carry user ids, job ids or anything secret, and never a provider's string
 * verbatim: codes go through `metricCode` (unknown → `other`), CME operations and callback
 * events through their known sets, so no label grows without bound.
 */
export class WorkerMetrics implements WorkerObserver {
  readonly registry = new Registry();
  readonly #providerCalls = new Counter({
    name: 'atelier_provider_calls_total',
    help: 'Provider calls by provider, operation, outcome kind and code',
    labelNames: ['provider', 'operation', 'outcome', 'code'] as const,
    registers: [this.registry],
  });
  readonly #providerCallSeconds = new Histogram({
    name: 'atelier_provider_call_duration_seconds',
    help: 'Provider call duration',
    labelNames: ['provider', 'operation'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly #polls = new Counter({
    name: 'atelier_drawing_polls_total',
    help: 'Drawing task polls by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly #pollsPerTask = new Histogram({
    name: 'atelier_drawing_polls_per_task',
    help: 'Polls a drawing task needed until it was seen done',
    buckets: [1, 2, 3, 4, 5, 7, 10, 15, 20, 40],
    registers: [this.registry],
  });
  readonly #pollLateness = new Histogram({
    name: 'atelier_drawing_poll_lateness_seconds',
    help: 'How late a poll ran against its planned time',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  readonly #unconfirmedSubmits = new Counter({
    name: 'atelier_drawing_unconfirmed_submits_total',
    help: 'Drawing submits whose outcome was lost (the provider may have billed a task), by what came of the job: submitted again (resubmit) or dead-lettered SUBMIT_UNCONFIRMED (dead)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly #outage = new Gauge({
    name: 'atelier_drawing_outage_window_open',
    help: '1 while this worker saw the drawing provider outage window open',
    registers: [this.registry],
  });
  readonly #imagesArchived = new Counter({
    name: 'atelier_images_archived_total',
    help: 'Images of finished drawings stored in the image archive',
    registers: [this.registry],
  });
  readonly #imageArchiveBytes = new Counter({
    name: 'atelier_image_archive_bytes_total',
    help: 'Bytes of images stored in the image archive',
    registers: [this.registry],
  });
  readonly #imageArchiveFailures = new Counter({
    name: 'atelier_image_archive_failures_total',
    help: 'Failed archive runs (IMAGE_ARCHIVE_FAILED), by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly #ticketRefreshes = new Counter({
    name: 'atelier_cme_ticket_refreshes_total',
    help: 'CME ticket logins by platform and outcome',
    labelNames: ['platform', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #deadLetters = new Counter({
    name: 'atelier_dead_letters_total',
    help: 'Jobs dead-lettered by this worker, by queue and code',
    labelNames: ['queue', 'code'] as const,
    registers: [this.registry],
  });
  readonly #callbacks = new Counter({
    name: 'atelier_callback_deliveries_total',
    help: 'Callback delivery attempts by event and status',
    labelNames: ['event', 'status'] as const,
    registers: [this.registry],
  });
  readonly #callbacksUnsent = new Counter({
    name: 'atelier_callbacks_unsent_total',
    help: 'Callbacks finishing jobs asked for that this worker could not send (no ATELIER_CALLBACK_SECRET), by event',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly #steps = new Counter({
    name: 'atelier_job_steps_total',
    help: 'Job runs by queue and what they came to (done, wait, fail by kind, cancelled)',
    labelNames: ['queue', 'step', 'kind'] as const,
    registers: [this.registry],
  });
  readonly #jobSeconds = new Histogram({
    name: 'atelier_job_duration_seconds',
    help: 'From enqueue to completion, by queue',
    labelNames: ['queue'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry, prefix: 'atelier_worker_' });
    }
  }

  readonly drawingCall: WorkerObserver['drawingCall'] = (call) => {
    this.#providerCalls.inc({
      provider: 'drawing',
      operation: call.operation,
      outcome: call.outcome,
      code: metricCode(call.code),
    });
    this.#providerCallSeconds.observe(
      { provider: 'drawing', operation: call.operation },
      call.durationMs / 1000,
    );
  };

  readonly drawingPoll: WorkerObserver['drawingPoll'] = (event) => {
    this.#polls.inc({ result: event.done ? 'done' : 'pending' });
    this.#pollLateness.observe(event.lateMs / 1000);
  };

  readonly drawingFinished: WorkerObserver['drawingFinished'] = (event) => {
    this.#pollsPerTask.observe(event.polls);
  };

  readonly unconfirmedSubmit: WorkerObserver['unconfirmedSubmit'] = (event) => {
    this.#unconfirmedSubmits.inc({ outcome: event.outcome });
  };

  readonly imageArchive: WorkerObserver['imageArchive'] = (event) => {
    if (event.outcome === 'failed') {
      this.#imageArchiveFailures.inc({ reason: event.reason });
      return;
    }
    this.#imagesArchived.inc();
    this.#imageArchiveBytes.inc(event.bytes);
  };

  readonly outageWindow: WorkerObserver['outageWindow'] = (open) => {
    this.#outage.set(open ? 1 : 0);
  };

  readonly cmeCall: WorkerObserver['cmeCall'] = (event) => {
    const operation = known(CME_OPERATIONS, event.operation);
    this.#providerCalls.inc({
      provider: 'cme',
      operation,
      outcome: event.outcome,
      code: metricCode(event.code),
    });
    this.#providerCallSeconds.observe({ provider: 'cme', operation }, event.durationMs / 1000);
  };

  readonly ticketRefresh: WorkerObserver['ticketRefresh'] = (event) => {
    this.#ticketRefreshes.inc({ platform: event.platform, outcome: event.outcome });
  };

  readonly step: WorkerObserver['step'] = (event) => {
    this.#steps.inc({ queue: event.queue, step: event.step, kind: event.kind ?? '' });
    if (event.step === 'done' && event.ageMs !== undefined) {
      this.#jobSeconds.observe({ queue: event.queue }, event.ageMs / 1000);
    }
  };

  readonly deadLetter: WorkerObserver['deadLetter'] = (entry) => {
    this.#deadLetters.inc({ queue: entry.queue, code: metricCode(entry.code) });
  };

  readonly callbackDelivery: WorkerObserver['callbackDelivery'] = (info) => {
    this.#callbacks.inc({ event: known(CALLBACK_EVENTS, info.event), status: info.status });
  };

  readonly callbackUnsent: WorkerObserver['callbackUnsent'] = (event) => {
    this.#callbacksUnsent.inc({ event: known(CALLBACK_EVENTS, event) });
  };

  /** Prometheus text exposition. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
