import { LATENCY_BOUNDS_MS, parseStatsField } from './stats-fields.ts';
import type { StatsBucket, StatsResolution } from './time-series.ts';

/** Enqueue-to-completion latency percentiles per step (ms; `null` where nothing completed). */
export interface LatencySeries {
  p50: Array<number | null>;
  p95: Array<number | null>;
  p99: Array<number | null>;
}

export interface QueueSeries {
  completed: number[];
  /** Dead-lettered. */
  dead: number[];
  /** Attempts that failed and were retried. */
  retried: number[];
  latencyMs: LatencySeries;
}

/**
 * The time series over `[from, to)` in steps of `step` seconds, every array one value per
 * `times` entry (the start of its step, epoch ms). The same JSON `GET /v1/stats` answers and
 * the dashboard draws.
 */
export interface StatsSeries {
  from: number;
  to: number;
  /** Seconds per point. */
  step: number;
  /** The buckets the points were summed from. */
  resolution: StatsResolution;
  times: number[];
  /** Every job queue, whether or not anything happened. */
  queues: Record<string, QueueSeries>;
  /** Mean polls per finished drawing task, by queue (`null` where none finished). */
  pollsPerTask: Record<string, Array<number | null>>;
  /** Provider answers by provider and code (bounded: `metricCode`); codes seen in the range. */
  providerCodes: Record<string, Record<string, number[]>>;
  /** CME logins by outcome. */
  cmeLogins: Record<string, number[]>;
  /** Images of completed drawings by tenant. */
  images: Record<string, number[]>;
}

export interface SeriesShape {
  from: number;
  to: number;
  stepMs: number;
  resolution: StatsResolution;
  queues: readonly string[];
}

/** Sums buckets into steps and derives percentiles and means (`StatsSeries`). */
export function statsSeries(buckets: readonly StatsBucket[], shape: SeriesShape): StatsSeries {
  const { from, to, stepMs } = shape;
  const times: number[] = [];
  for (let at = from; at < to; at += stepMs) times.push(at);
  const points = times.length;
  const zeros = () => new Array<number>(points).fill(0);
  const counters = () => ({ completed: zeros(), dead: zeros(), retried: zeros() });
  const queueCounts = new Map(shape.queues.map((q) => [q, counters()]));
  const latency = new Map<string, number[][]>();
  const polls = new Map<string, { sum: number[]; tasks: number[] }>();
  const codes: StatsSeries['providerCodes'] = {};
  const logins: StatsSeries['cmeLogins'] = {};
  const images: StatsSeries['images'] = {};
  const series = <T>(map: Map<string, T>, key: string, make: () => T): T => {
    let value = map.get(key);
    if (value === undefined) {
      value = make();
      map.set(key, value);
    }
    return value;
  };
  const entry = (record: Record<string, number[]>, key: string): number[] => {
    const values = record[key] ?? zeros();
    record[key] = values;
    return values;
  };

  for (const bucket of buckets) {
    const i = Math.floor((bucket.at - from) / stepMs);
    if (i < 0 || i >= points) continue;
    for (const [field, n] of Object.entries(bucket.counts)) {
      const parsed = parseStatsField(field);
      if (!parsed || !Number.isFinite(n)) continue;
      switch (parsed.series) {
        case 'queue':
          bump(series(queueCounts, parsed.queue, counters)[parsed.counter], i, n);
          break;
        case 'latency': {
          const histograms = series(latency, parsed.queue, () =>
            times.map(() => new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0)),
          );
          bump(histograms[i] as number[], parsed.bucket, n);
          break;
        }
        case 'polls':
          bump(
            series(polls, parsed.queue, () => ({ sum: zeros(), tasks: zeros() }))[parsed.part],
            i,
            n,
          );
          break;
        case 'code': {
          const byCode = codes[parsed.provider] ?? {};
          codes[parsed.provider] = byCode;
          bump(entry(byCode, parsed.code), i, n);
          break;
        }
        case 'login':
          bump(entry(logins, parsed.outcome), i, n);
          break;
        case 'images':
          bump(entry(images, parsed.tenant), i, n);
          break;
      }
    }
  }

  const queues: StatsSeries['queues'] = {};
  for (const [queue, counts] of queueCounts) {
    const histograms = latency.get(queue);
    const at = (q: number) => times.map((_, i) => (histograms ? quantile(histograms[i], q) : null));
    queues[queue] = { ...counts, latencyMs: { p50: at(0.5), p95: at(0.95), p99: at(0.99) } };
  }
  const pollsPerTask: StatsSeries['pollsPerTask'] = {};
  for (const [queue, { sum, tasks }] of polls) {
    pollsPerTask[queue] = sum.map((s, i) => {
      const n = tasks[i] ?? 0;
      return n > 0 ? Math.round((s / n) * 100) / 100 : null;
    });
  }
  return {
    from,
    to,
    step: stepMs / 1000,
    resolution: shape.resolution,
    times,
    queues,
    pollsPerTask,
    providerCodes: codes,
    cmeLogins: logins,
    images,
  };
}

function bump(values: number[], i: number, n: number): void {
  values[i] = (values[i] ?? 0) + n;
}

/**
 * The q-quantile (0..1) of a latency histogram, interpolated linearly inside its bucket (the
 * last bucket, beyond every bound, answers its lower bound); `null` for an empty histogram.
 */
export function quantile(histogram: readonly number[] | undefined, q: number): number | null {
  if (!histogram) return null;
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < histogram.length; i++) {
    const n = histogram[i] ?? 0;
    if (n > 0 && below + n >= rank) {
      const lower = i === 0 ? 0 : (LATENCY_BOUNDS_MS[i - 1] as number);
      const upper = LATENCY_BOUNDS_MS[i];
      if (upper === undefined) return lower;
      return Math.round(lower + ((upper - lower) * (rank - below)) / n);
    }
    below += n;
  }
  return LATENCY_BOUNDS_MS.at(-1) ?? null;
}
