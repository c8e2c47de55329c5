/**
 * The counters of a time-series bucket (one hash field each). Every dimension is bounded, so a
 * bucket holds a bounded number of fields whatever the traffic: queues (the job queues), fixed
 * latency buckets, provider codes after `metricCode`, login outcomes, configured tenants.
 * Fields are `|`-separated; no dimension value contains `|` (codes after `metricCode`, queue
 * and tenant names).
 */

/** Upper bounds (ms, exclusive) of the enqueue-to-completion latency buckets; one more beyond. */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000,
  3_600_000,
];

/** The latency bucket (0..LATENCY_BOUNDS_MS.length) a duration falls in. */
export function latencyBucket(ms: number): number {
  let i = 0;
  while (i < LATENCY_BOUNDS_MS.length && ms >= (LATENCY_BOUNDS_MS[i] as number)) i++;
  return i;
}

export type QueueCounter = 'completed' | 'dead' | 'retried';

/** Field names, one builder per series. */
export const STATS_FIELD = {
  queue: (queue: string, counter: QueueCounter) => `q|${queue}|${counter}`,
  latency: (queue: string, bucket: number) => `lat|${queue}|${bucket}`,
  /** Polls of the drawing tasks that finished, and how many finished. */
  pollsSum: (queue: string) => `polls|${queue}|sum`,
  pollsTasks: (queue: string) => `polls|${queue}|tasks`,
  /** Provider answers by provider and code (`metricCode`). */
  code: (provider: string, code: string) => `code|${provider}|${code}`,
  /** CME logins by outcome (`ok`, `auth`, …). */
  login: (outcome: string) => `login|${outcome}`,
  /** Images of completed drawings by tenant. */
  images: (tenant: string) => `img|${tenant}`,
} as const;

/** A field read back: its series and dimensions. */
export type ParsedStatsField =
  | { series: 'queue'; queue: string; counter: QueueCounter }
  | { series: 'latency'; queue: string; bucket: number }
  | { series: 'polls'; queue: string; part: 'sum' | 'tasks' }
  | { series: 'code'; provider: string; code: string }
  | { series: 'login'; outcome: string }
  | { series: 'images'; tenant: string };

const COUNTERS: ReadonlySet<string> = new Set(['completed', 'dead', 'retried']);

/** The series a field belongs to; `undefined` for a field this version does not know. */
export function parseStatsField(field: string): ParsedStatsField | undefined {
  const [kind, a = '', b = ''] = field.split('|');
  switch (kind) {
    case 'q':
      return COUNTERS.has(b)
        ? { series: 'queue', queue: a, counter: b as QueueCounter }
        : undefined;
    case 'lat': {
      const bucket = Number(b);
      return Number.isInteger(bucket) && bucket >= 0 && bucket <= LATENCY_BOUNDS_MS.length
        ? { series: 'latency', queue: a, bucket }
        : undefined;
    }
    case 'polls':
      return b === 'sum' || b === 'tasks' ? { series: 'polls', queue: a, part: b } : undefined;
    case 'code':
      return { series: 'code', provider: a, code: b };
    case 'login':
      return { series: 'login', outcome: a };
    case 'img':
      return { series: 'images', tenant: a };
    default:
      return undefined;
  }
}
