import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ProducerStats } from '../lib/producer-stats.ts';

export interface ApiMetricsOptions {
  /** Queue-level figures, read at each scrape. */
  stats: () => Promise<ProducerStats>;
  /** Metric name prefix. */
  namespace?: string;
}

/**
 * The API process's Prometheus registry (its own, never prom-client's global one). Queue
 * figures are read from Redis at scrape time; request counts are observed as they happen.
 * To add metrics: create them with `registry: [this.registry]` in a subclass or next to this
 * object, and use `addCollector` for figures read at scrape time.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly namespace: string;
  readonly #collectors: Array<() => Promise<void>> = [];
  readonly #requests: Counter<'method' | 'route' | 'status'>;
  readonly #duration: Histogram<'method' | 'route'>;

  constructor(options: ApiMetricsOptions) {
    const ns = options.namespace ?? 'atelier';
    this.namespace = ns;
    const registers = [this.registry];
    this.#requests = new Counter({
      name: `${ns}_api_requests_total`,
      help: 'HTTP requests answered, by route and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.#duration = new Histogram({
      name: `${ns}_api_request_duration_seconds`,
      help: 'HTTP request duration',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    const depth = new Gauge({
      name: `${ns}_queue_jobs`,
      help: 'Jobs per queue and BullMQ state',
      labelNames: ['queue', 'state'],
      registers,
    });
    const openBatches = new Gauge({
      name: `${ns}_batches_open`,
      help: 'Batches not completed yet',
      registers,
    });
    const deadLetters = new Gauge({
      name: `${ns}_dead_letters`,
      help: 'Entries in the dead-letter queue, by code',
      labelNames: ['code'],
      registers,
    });
    const redisUp = new Gauge({
      name: `${ns}_api_redis_up`,
      help: '1 when the last scrape could read Redis',
      registers,
    });
    this.addCollector(async () => {
      let stats: ProducerStats;
      try {
        stats = await options.stats();
      } catch {
        redisUp.set(0);
        return;
      }
      redisUp.set(1);
      depth.reset();
      for (const [queue, counts] of Object.entries(stats.queues)) {
        for (const [state, count] of Object.entries(counts)) depth.set({ queue, state }, count);
      }
      openBatches.set(stats.openBatches);
      deadLetters.reset();
      for (const [code, count] of Object.entries(stats.deadLettersByCode)) {
        deadLetters.set({ code }, count);
      }
    });
  }

  /** Runs before every scrape (read figures from Redis, set gauges). */
  addCollector(collect: () => Promise<void>): void {
    this.#collectors.push(collect);
  }

  observeRequest(method: string, route: string, status: number, durationMs: number): void {
    this.#requests.inc({ method, route, status: String(status) });
    this.#duration.observe({ method, route }, durationMs / 1000);
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    await Promise.all(this.#collectors.map((collect) => collect()));
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
