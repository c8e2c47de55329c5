import { DEFAULT_TENANT, type Logger, metricCode, OTHER_CODE, QUEUE_NAMES } from '@atelier/shared';
import { latencyBucket, STATS_FIELD, type StatsCounts } from '@atelier/store';
import type { WorkerObserver } from '../worker-observer.ts';

/** Where the counts go: `TimeSeries` (Redis). */
export interface StatsSink {
  add(counts: StatsCounts): Promise<void>;
}

export interface StatsRecorderOptions {
  sink: StatsSink;
  logger: Logger;
  /** How often the counts are written (default 5000 ms). */
  flushIntervalMs?: number;
  /** Tenants counted by name; any other counts as `other` (default: `default` only). */
  tenants?: readonly string[];
  /** Longest the final write at `close` may take (default 2000 ms). */
  closeTimeoutMs?: number;
  now?: () => number;
}

interface ResolvedOptions {
  sink: StatsSink;
  logger: Logger;
  flushIntervalMs: number;
  tenants: ReadonlySet<string>;
  closeTimeoutMs: number;
  now: () => number;
}

const MINUTE_MS = 60_000;
/** Minutes of counts held while writes fail (48 h: what the minute buckets keep anyway). */
const MAX_PENDING_MINUTES = 48 * 60;
const JOB_QUEUES: ReadonlySet<string> = new Set([QUEUE_NAMES.drawing, QUEUE_NAMES.cme]);

function resolve(options: StatsRecorderOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    sink: options.sink,
    logger: options.logger,
    flushIntervalMs: options.flushIntervalMs ?? 5000,
    tenants: new Set(options.tenants ?? [DEFAULT_TENANT]),
    closeTimeoutMs: options.closeTimeoutMs ?? 2000,
    now: options.now ?? Date.now,
  };
  for (const name of ['flushIntervalMs', 'closeTimeoutMs'] as const) {
    const value = resolved[name];
    if (!Number.isFinite(value) || value < 1) {
      throw new TypeError(`StatsRecorder: ${name} must be a number ≥ 1, got ${value}`);
    }
  }
  return resolved;
}

/**
 * THE place a worker process records Atelier's time series (`TimeSeries`: dashboard charts,
 * `GET /v1/stats`): it hears the same events as the Prometheus metrics, counts them per minute
 * in process (no Redis call per job), and writes every `flushIntervalMs` and at `close` in one
 * script. Per queue completed, dead and retried; enqueue-to-completion latency (fixed
 * buckets); polls per finished drawing; provider answer codes (`metricCode`); CME logins by
 * outcome; images per tenant. Every dimension is bounded. A failed write is logged and its
 * counts are kept for the next one; nothing it does throws or rejects.
 */
export class StatsRecorder implements WorkerObserver {
  readonly #o: ResolvedOptions;
  #pending = new Map<number, Map<string, number>>();
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #failing = false;

  constructor(options: StatsRecorderOptions) {
    this.#o = resolve(options);
  }

  /** Starts writing every `flushIntervalMs` (the timer does not keep the process alive). */
  start(): void {
    this.#timer ??= setInterval(() => void this.flush(), this.#o.flushIntervalMs);
    this.#timer.unref();
  }

  /** Writes what was counted since the last write (waits for one under way). Never rejects. */
  async flush(): Promise<void> {
    while (this.#inFlight) await this.#inFlight;
    if (this.#pending.size === 0) return;
    const counts = this.#pending;
    this.#pending = new Map();
    this.#inFlight = this.#write(counts).finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Stops the timer and writes the rest (waiting at most `closeTimeoutMs`). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((done) => {
      timer = setTimeout(() => done('timeout'), this.#o.closeTimeoutMs);
    });
    const result = await Promise.race([this.flush().then(() => 'written' as const), timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.#o.logger.warn(
        { timeoutMs: this.#o.closeTimeoutMs },
        'stats time series: the last counts could not be written before closing',
      );
    }
  }

  readonly step: WorkerObserver['step'] = (event) => {
    if (!JOB_QUEUES.has(event.queue)) return;
    if (event.action === 'complete') {
      this.#count(STATS_FIELD.queue(event.queue, 'completed'));
      if (event.ageMs !== undefined) {
        this.#count(STATS_FIELD.latency(event.queue, latencyBucket(Math.max(0, event.ageMs))));
      }
      if (event.images !== undefined && event.images > 0) {
        this.#count(STATS_FIELD.images(this.#tenant(event.tenant)), event.images);
      }
    } else if (event.action === 'retry') {
      this.#count(STATS_FIELD.queue(event.queue, 'retried'));
    }
  };

  readonly deadLetter: WorkerObserver['deadLetter'] = (entry) => {
    if (JOB_QUEUES.has(entry.queue)) this.#count(STATS_FIELD.queue(entry.queue, 'dead'));
  };

  readonly drawingFinished: WorkerObserver['drawingFinished'] = (event) => {
    this.#count(STATS_FIELD.pollsSum(QUEUE_NAMES.drawing), Math.max(0, Math.round(event.polls)));
    this.#count(STATS_FIELD.pollsTasks(QUEUE_NAMES.drawing));
  };

  readonly drawingCall: WorkerObserver['drawingCall'] = (call) => {
    this.#count(STATS_FIELD.code('drawing', metricCode(call.code)));
  };

  readonly cmeCall: WorkerObserver['cmeCall'] = (event) => {
    this.#count(STATS_FIELD.code('cme', metricCode(event.code)));
  };

  readonly ticketRefresh: WorkerObserver['ticketRefresh'] = (event) => {
    this.#count(STATS_FIELD.login(event.outcome));
  };

  #tenant(tenant: string | undefined): string {
    const name = tenant ?? DEFAULT_TENANT;
    return this.#o.tenants.has(name) ? name : OTHER_CODE;
  }

  #count(field: string, n = 1): void {
    const minute = Math.floor(this.#o.now() / MINUTE_MS) * MINUTE_MS;
    let fields = this.#pending.get(minute);
    if (!fields) {
      fields = new Map();
      this.#pending.set(minute, fields);
    }
    fields.set(field, (fields.get(field) ?? 0) + n);
  }

  async #write(counts: Map<number, Map<string, number>>): Promise<void> {
    try {
      await this.#o.sink.add(counts);
      if (this.#failing) this.#o.logger.info('stats time series: written again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) {
        this.#o.logger.warn(
          { err },
          'stats time series: could not write the counts; keeping them for the next try',
        );
      }
      this.#failing = true;
      this.#keep(counts);
    }
  }

  /** Puts counts that could not be written back in front of what came since. */
  #keep(counts: Map<number, Map<string, number>>): void {
    for (const [minute, fields] of this.#pending) {
      const kept = counts.get(minute);
      if (!kept) {
        counts.set(minute, fields);
        continue;
      }
      for (const [field, n] of fields) kept.set(field, (kept.get(field) ?? 0) + n);
    }
    const minutes = [...counts.keys()].sort((a, b) => a - b);
    for (const minute of minutes.slice(0, Math.max(0, minutes.length - MAX_PENDING_MINUTES))) {
      counts.delete(minute);
    }
    this.#pending = counts;
  }
}
