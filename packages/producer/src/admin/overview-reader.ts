import { atelierKeys } from '@atelier/shared';
import {
  type BatchInfo,
  BatchLedger,
  DeadLetterStore,
  type HaltRecord,
  LIMITER_MAX,
  listCmeTickets,
  RecentErrors,
  type RedisClient,
  type TicketInfo,
} from '@atelier/store';
import type { Queue } from 'bullmq';
import { COUNTED_STATES } from '../lib/producer-stats.ts';
import type { AdminQueues } from './admin-queues.ts';
import { perMinuteRate } from './per-minute-rate.ts';

export interface QueueOverview {
  name: string;
  /** Jobs per BullMQ state (`COUNTED_STATES`). */
  counts: Record<string, number>;
  /** Jobs per minute, averaged over the last 5 minutes (BullMQ worker metrics). */
  completedPerMin: number;
  failedPerMin: number;
  paused: boolean;
  /** Set when Atelier itself paused the queue (bad credentials, quota). */
  halt: HaltRecord | undefined;
  /** Milliseconds the queue-wide slow-down still lasts (0: not throttled). */
  throttledForMs: number;
}

export interface OutageOverview {
  code: string;
  openedAt: number;
  until: number;
  /** `open`: no provider calls until `until`; `probing`: one job is testing the provider. */
  phase: 'open' | 'probing';
}

export interface ErrorGroup {
  code: string;
  queue: string;
  count: number;
  lastAt: number;
  kinds: string[];
}

export interface Overview {
  at: number;
  /** The tenant the batches and dead letters are filtered to (undefined: every tenant). */
  tenant: string | undefined;
  queues: QueueOverview[];
  batches: BatchInfo[];
  /** Every tenant's by code; with a tenant filter, `tenantTotal` is that tenant's. */
  deadLetters: {
    total: number;
    byCode: Array<{ code: string; count: number }>;
    tenantTotal?: number;
  };
  outage: OutageOverview | undefined;
  tickets: TicketInfo[];
  recentErrors: { sampled: number; groups: ErrorGroup[] };
}

export interface OverviewSources {
  readonly queues: AdminQueues;
  readonly redis: RedisClient;
  readonly prefix: string;
}

/** Batches read a page at a time when filtering by tenant… */
const BATCH_PAGE = 100;
/** …among the newest this many. */
const BATCH_SCAN = 2000;

/** Everything the overview page shows, read from Redis in a few parallel round trips. */
export class OverviewReader {
  readonly #o: OverviewSources;
  readonly #ledger: BatchLedger;
  readonly #deadLetters: DeadLetterStore;
  readonly #recentErrors: RecentErrors;

  constructor(sources: OverviewSources) {
    const { redis, prefix } = sources;
    this.#o = sources;
    this.#ledger = new BatchLedger(redis, prefix);
    this.#deadLetters = new DeadLetterStore(redis, prefix);
    this.#recentErrors = new RecentErrors(redis, prefix);
  }

  /** `tenant`: only that tenant's batches, and its count of dead letters besides the rest. */
  async read(now: number, batchLimit = 20, tenant?: string): Promise<Overview> {
    const [queues, batches, { total, byCode }, tenantTotal, outage, tickets, errors] =
      await Promise.all([
        Promise.all(this.#o.queues.all().map((queue) => this.#queue(queue, now))),
        this.#batches(batchLimit, tenant),
        this.#deadLetters.counts(),
        tenant === undefined
          ? undefined
          : this.#deadLetters.list({ tenant }, { limit: 1 }).then((page) => page.total),
        this.#outage(now),
        listCmeTickets(this.#o.redis, this.#o.prefix, now),
        this.#recentErrors.list(),
      ]);
    return {
      at: now,
      tenant,
      queues,
      batches,
      deadLetters: {
        ...(tenantTotal !== undefined ? { tenantTotal } : {}),
        total,
        byCode: Object.entries(byCode)
          .map(([code, count]) => ({ code, count }))
          .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
      },
      outage,
      tickets,
      recentErrors: { sampled: errors.length, groups: groupErrors(errors) },
    };
  }

  async #queue(queue: Queue, now: number): Promise<QueueOverview> {
    const [counts, completed, failed, paused, halt, ttl] = await Promise.all([
      queue.getJobCounts(...COUNTED_STATES),
      queue.getMetrics('completed', 0, 15),
      queue.getMetrics('failed', 0, 15),
      queue.isPaused(),
      this.#o.queues.halt(queue.name),
      queue.getRateLimitTtl(LIMITER_MAX),
    ]);
    return {
      name: queue.name,
      counts,
      completedPerMin: perMinuteRate(completed, now),
      failedPerMin: perMinuteRate(failed, now),
      paused,
      halt,
      throttledForMs: Math.max(0, ttl),
    };
  }

  /** The newest batches (of `tenant`: the newest of the last `BATCH_SCAN` batches). */
  async #batches(limit: number, tenant?: string): Promise<BatchInfo[]> {
    const found: BatchInfo[] = [];
    const page = tenant === undefined ? limit : BATCH_PAGE;
    for (let offset = 0; found.length < limit && offset < BATCH_SCAN; offset += page) {
      const ids = await this.#ledger.list(page, offset);
      const infos = await Promise.all(ids.map((id) => this.#ledger.get(id)));
      for (const info of infos) {
        if (info && (tenant === undefined || info.tenant === tenant) && found.length < limit) {
          found.push(info);
        }
      }
      if (ids.length < page) break;
    }
    return found;
  }

  async #outage(now: number): Promise<OutageOverview | undefined> {
    const json = await this.#o.redis.get(atelierKeys(this.#o.prefix).drawing.outage);
    if (!json) return undefined;
    try {
      const w = JSON.parse(json) as { code?: unknown; openedAt?: unknown; until?: unknown };
      const until = Number(w.until ?? 0);
      return {
        code: String(w.code ?? 'UNKNOWN'),
        openedAt: Number(w.openedAt ?? 0),
        until,
        phase: until > now ? 'open' : 'probing',
      };
    } catch {
      return { code: 'UNKNOWN', openedAt: 0, until: 0, phase: 'probing' };
    }
  }
}

function groupErrors(errors: Array<{ code: string; queue: string; at: number; kind: string }>) {
  const groups = new Map<string, ErrorGroup>();
  for (const error of errors) {
    const key = `${error.queue}\u0000${error.code}`;
    let group = groups.get(key);
    if (!group) {
      group = { code: error.code, queue: error.queue, count: 0, lastAt: 0, kinds: [] };
      groups.set(key, group);
    }
    group.count++;
    group.lastAt = Math.max(group.lastAt, error.at);
    if (!group.kinds.includes(error.kind)) group.kinds.push(error.kind);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || b.lastAt - a.lastAt);
}
