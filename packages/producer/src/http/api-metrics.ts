import { metricCode, OTHER_CODE } from '@atelier/shared';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ProducerStats } from '../lib/producer-stats.ts';

const SERVED_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
]);

/** Where the API's metrics come from besides what it observes itself. */
export interface ApiMetricSources {
  /** Queue figures, read at scrape time. */
  stats: () => Promise<ProducerStats>;
  /** The tenants the API's keys name (the `tenant` label takes no other value). */
  tenants: readonly string[];
  /** Images counted today per tenant (net of those given back), read at scrape time. */
  imagesToday: (tenant: string) => Promise<number>;
}

/**
 * The API process's Prometheus registry (its own, never prom-client's global one). Queue
 * figures are read from Redis at scrape time (`stats`); request counts are observed as they
 * happen. Labels are bounded: methods the API serves (others `other`), route patterns (never a
 * raw path), dead-letter codes through `metricCode` (codes no spec names are summed as `other`),
 * tenants the configured keys name.
 */
export class ApiMetrics {
  readonly #registry = new Registry();
  readonly #stats: () => Promise<ProducerStats>;
  readonly #requests: Counter<'method' | 'route' | 'status'>;
  readonly #duration: Histogram<'method' | 'route'>;
  readonly #depth: Gauge<'queue' | 'state'>;
  readonly #openBatches: Gauge;
  readonly #deadLetters: Gauge<'code'>;
  readonly #redisUp: Gauge;
  readonly #tenants: ReadonlySet<string>;
  readonly #imagesToday: (tenant: string) => Promise<number>;
  readonly #tenantImages: Counter<'tenant'>;
  readonly #tenantImagesToday: Gauge<'tenant'>;

  constructor(sources: ApiMetricSources) {
    this.#stats = sources.stats;
    this.#tenants = new Set(sources.tenants);
    this.#imagesToday = sources.imagesToday;
    const registers = [this.#registry];
    this.#requests = new Counter({
      name: 'atelier_api_requests_total',
      help: 'HTTP requests answered, by route and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'atelier_api_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    this.#depth = new Gauge({
      name: 'atelier_queue_jobs',
      help: 'Jobs per queue and BullMQ state',
      labelNames: ['queue', 'state'],
      registers,
    });
    this.#openBatches = new Gauge({
      name: 'atelier_batches_open',
      help: 'Batches not completed yet',
      registers,
    });
    this.#deadLetters = new Gauge({
      name: 'atelier_dead_letters',
      help: 'Entries in the dead-letter queue, by code',
      labelNames: ['code'],
      registers,
    });
    this.#redisUp = new Gauge({
      name: 'atelier_api_redis_up',
      help: '1 when the last scrape could read Redis',
      registers,
    });
    this.#tenantImages = new Counter({
      name: 'atelier_tenant_images_total',
      help: "Images enqueued per tenant by this API process (reserved on the tenant's usage)",
      labelNames: ['tenant'],
      registers,
    });
    this.#tenantImagesToday = new Gauge({
      name: 'atelier_tenant_images_today',
      help: "Images counted on each tenant's usage today (UTC; all API replicas, net of images given back unpaid)",
      labelNames: ['tenant'],
      registers,
    });
    for (const tenant of this.#tenants) this.#tenantImages.inc({ tenant }, 0);
  }

  /** Images an enqueue of `tenant` counted (a tenant no key names is not a label). */
  countImages(tenant: string, images: number): void {
    if (images > 0 && this.#tenants.has(tenant)) this.#tenantImages.inc({ tenant }, images);
  }

  observeRequest(method: string, route: string, status: number, durationMs: number): void {
    const label = SERVED_METHODS.has(method) ? method : OTHER_CODE;
    this.#requests.inc({ method: label, route, status: String(status) });
    this.#duration.observe({ method: label, route }, durationMs / 1000);
  }

  /** The exposition text and its content type (queue figures read now). */
  async render(): Promise<{ contentType: string; body: string }> {
    await this.#collect();
    return { contentType: this.#registry.contentType, body: await this.#registry.metrics() };
  }

  async #collect(): Promise<void> {
    let stats: ProducerStats;
    try {
      stats = await this.#stats();
    } catch {
      this.#redisUp.set(0);
      return;
    }
    this.#redisUp.set(1);
    this.#depth.reset();
    for (const [queue, counts] of Object.entries(stats.queues)) {
      for (const [state, count] of Object.entries(counts)) this.#depth.set({ queue, state }, count);
    }
    this.#openBatches.set(stats.openBatches);
    this.#deadLetters.reset();
    const byLabel = new Map<string, number>();
    for (const [code, count] of Object.entries(stats.deadLettersByCode)) {
      const label = metricCode(code);
      byLabel.set(label, (byLabel.get(label) ?? 0) + count);
    }
    for (const [code, count] of byLabel) this.#deadLetters.set({ code }, count);
    try {
      const today = await Promise.all([...this.#tenants].map((t) => this.#imagesToday(t)));
      [...this.#tenants].forEach((tenant, i) => {
        this.#tenantImagesToday.set({ tenant }, today[i] ?? 0);
      });
    } catch {
      this.#redisUp.set(0);
    }
  }
}
