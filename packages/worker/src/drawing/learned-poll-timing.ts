import { atelierKeys, type Logger } from '@atelier/shared';
import type { RedisClient } from '@atelier/store';

/** Fraction of tasks the first poll should find done. */
export const FIRST_POLL_TARGET = 0.6;
/** Fraction of the remaining tasks the second poll should find done. */
export const SECOND_POLL_TARGET = 0.75;
/** Step of each update, as a fraction of the current value (at least 50 ms). */
const STEP_FRACTION = 0.03;
const RECENT_DURATIONS_KEPT = 500;

/**
 * Stochastic-approximation update of a quantile from binary observations: was the task done
 * when we looked at offset o? It needs no exact finish times (which polling never sees), only
 * the answers we already get. Observations come in groups (n polls that looked at the same
 * offset, d of them found the task done): the group moves q by step·(p·n − d), so q settles
 * where a fraction p of tasks is done — but only when the group says something about q
 * ("mostly done at o ≤ q" → down; "mostly pending at o ≥ q" → up), and never by more than a
 * quarter of q at once. So a burst of answers to polls aimed at an old guess cannot throw q
 * far past the truth, while a steady stream converges quickly. Also keeps the recent observed
 * durations (upper bounds) for operators.
 * KEYS[1] stats hash, KEYS[2] recent list; ARGV: field, cold-start q, target p, floor,
 * ceiling, group count G, then G triples (offset, n, done), then observed durations.
 */
const OBSERVE = `
local q = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or ARGV[2])
local p, floor, ceiling = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local groups = tonumber(ARGV[6])
local total = 0
for g = 0, groups - 1 do
  local offset, n, done = tonumber(ARGV[7 + 3 * g]), tonumber(ARGV[8 + 3 * g]), tonumber(ARGV[9 + 3 * g])
  local delta = math.max(50, q * ${STEP_FRACTION}) * (p * n - done)
  if (delta < 0 and offset <= q) or (delta > 0 and offset >= q) then
    delta = math.max(-0.25 * q, math.min(0.25 * q, delta))
    q = math.max(floor, math.min(ceiling, q + delta))
  end
  total = total + n
end
for i = 7 + 3 * groups, #ARGV do redis.call('LPUSH', KEYS[2], ARGV[i]) end
redis.call('HSET', KEYS[1], ARGV[1], tostring(math.floor(q)))
redis.call('HINCRBY', KEYS[1], 'observations', total)
redis.call('LTRIM', KEYS[2], 0, ${RECENT_DURATIONS_KEPT - 1})
return math.floor(q)
`;

export interface LearnedTimes {
  /** Offset from submit of the first poll. */
  firstMs: number;
  /** Offset from submit of the second poll. */
  secondMs: number;
  observations: number;
}

export interface LearnedPollTimingOptions {
  redis: RedisClient;
  prefix: string;
  /** Cold-start first poll (`DRAWING_POLL_FIRST_MS`). */
  defaultFirstMs: number;
  /** Cold-start gap between first and second poll (`DRAWING_POLL_INTERVAL_MS`). */
  defaultGapMs: number;
  /** Longest offset the learned schedule may aim at (the poll deadline). */
  ceilingMs: number;
  /** How long a process reuses what it read, and gathers observations before writing them. */
  cacheMs?: number;
  /** Where a failed write of the statistics is reported (polling goes on without it). */
  logger?: Logger;
}

type Which = 'first' | 'second';
interface Observation {
  done: boolean;
  /** Where (offset from submit) the poll looked. */
  offsetMs: number;
  observedMs?: number;
}

/**
 * What the fleet has learned about how long tasks of one shape (resolution × num) take, kept
 * in Redis so every worker aims its first polls near the typical finish. Reads are cached and
 * observations batched per process, so a healthy job costs no extra Redis round trip.
 */
export class LearnedPollTiming {
  readonly #o: Required<Omit<LearnedPollTimingOptions, 'logger'>>;
  readonly #logger: Logger | undefined;
  readonly #keys: ReturnType<typeof atelierKeys>['drawing'];
  readonly #cache = new Map<string, { at: number; times: LearnedTimes }>();
  readonly #pending = new Map<string, Observation[]>();
  readonly #reading = new Map<string, Promise<LearnedTimes>>();
  #flushTimer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(options: LearnedPollTimingOptions) {
    this.#o = { cacheMs: 250, ...options };
    this.#logger = options.logger;
    this.#keys = atelierKeys(options.prefix).drawing;
  }

  static shape(resolution: string, num: number): string {
    return `${resolution}x${num}`;
  }

  async times(shape: string): Promise<LearnedTimes> {
    const cached = this.#cache.get(shape);
    if (cached && Date.now() - cached.at < this.#o.cacheMs) return cached.times;
    // Jobs that find the cache stale together share one read.
    let reading = this.#reading.get(shape);
    if (!reading) {
      reading = this.#read(shape).finally(() => this.#reading.delete(shape));
      this.#reading.set(shape, reading);
    }
    return reading;
  }

  async #read(shape: string): Promise<LearnedTimes> {
    const [first, second, observations] = await this.#o.redis.hmget(
      this.#keys.durations(shape),
      'first',
      'second',
      'observations',
    );
    const times = this.#times(
      first ? Number(first) : undefined,
      second ? Number(second) : undefined,
    );
    times.observations = Number(observations ?? 0);
    this.#cache.set(shape, { at: Date.now(), times });
    return times;
  }

  /**
   * Records what a learned poll found: `which` guess it checked, whether the task was done,
   * where (offset from submit) it looked, and when done the submit→seen-done time. Written to
   * Redis in batches (see `flush`).
   */
  observe(shape: string, which: Which, done: boolean, offsetMs: number, observedMs?: number): void {
    const key = `${shape}\u0000${which}`;
    const list = this.#pending.get(key) ?? [];
    list.push(observedMs === undefined ? { done, offsetMs } : { done, offsetMs, observedMs });
    this.#pending.set(key, list);
    this.#flushTimer ??= setTimeout(() => {
      this.#flushTimer = undefined;
      void this.flush().catch((err) =>
        this.#logger?.warn({ err }, 'could not write poll answers to the learned statistics'),
      );
    }, this.#o.cacheMs).unref();
  }

  /** Writes gathered observations now (also on close). */
  async flush(): Promise<void> {
    const batches = [...this.#pending];
    this.#pending.clear();
    const run = this.#flushing.then(async () => {
      for (const [key, observations] of batches) {
        const [shape = '', which = 'first'] = key.split('\u0000') as [string, Which];
        const current = await this.times(shape);
        const groups = new Map<number, { n: number; done: number }>();
        for (const o of observations) {
          const offset = Math.round(o.offsetMs);
          const group = groups.get(offset) ?? { n: 0, done: 0 };
          group.n++;
          if (o.done) group.done++;
          groups.set(offset, group);
        }
        const updated = await this.#o.redis.eval(
          OBSERVE,
          2,
          this.#keys.durations(shape),
          `${this.#keys.durations(shape)}:recent`,
          which,
          String(which === 'first' ? current.firstMs : current.secondMs),
          String(which === 'first' ? FIRST_POLL_TARGET : SECOND_POLL_TARGET),
          String(which === 'first' ? 0 : current.firstMs + 250),
          String(this.#o.ceilingMs),
          String(groups.size),
          ...[...groups].flatMap(([offset, g]) => [String(offset), String(g.n), String(g.done)]),
          ...observations.flatMap((o) =>
            o.observedMs === undefined ? [] : [String(Math.round(o.observedMs))],
          ),
        );
        const times =
          which === 'first'
            ? this.#times(Number(updated), current.secondMs)
            : this.#times(current.firstMs, Number(updated));
        times.observations = current.observations + observations.length;
        this.#cache.set(shape, { at: Date.now(), times });
      }
    });
    this.#flushing = run.catch(() => undefined);
    await run;
  }

  async close(): Promise<void> {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    await this.flush().catch(() => undefined);
  }

  /** Recent submit→seen-done durations of a shape, newest first (for operators and benches). */
  async recent(shape: string): Promise<number[]> {
    const values = await this.#o.redis.lrange(`${this.#keys.durations(shape)}:recent`, 0, -1);
    return values.map(Number);
  }

  #times(first: number | undefined, second: number | undefined): LearnedTimes {
    const firstMs = first ?? this.#o.defaultFirstMs;
    const secondMs = Math.max(second ?? firstMs + this.#o.defaultGapMs, firstMs + 250);
    return { firstMs, secondMs, observations: 0 };
  }
}
