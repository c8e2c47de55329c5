import { atelierKeys, type RedisClient } from '@atelier/shared';

/** Fraction of tasks the first poll should find done. */
export const FIRST_POLL_TARGET = 0.6;
/** Fraction of the remaining tasks the second poll should find done. */
export const SECOND_POLL_TARGET = 0.75;
const RECENT_DURATIONS_KEPT = 500;

/**
 * Stochastic-approximation update of a quantile from one binary observation: was the task
 * done when we looked at `offset`? q moves down by step·(1−p) on "done", up by step·p on
 * "pending", so it settles where a fraction p of tasks is done. Needs no exact finish times
 * (which polling never sees), only the answers we already get. Also keeps the recent
 * observed durations (upper bounds) for operators.
 * KEYS[1] stats hash, KEYS[2] recent list; ARGV: field, default q, done(0/1), target p,
 * floor, ceiling, observed duration (or -1).
 */
const OBSERVE = `
local q = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or ARGV[2])
local done = tonumber(ARGV[3])
local p = tonumber(ARGV[4])
local step = math.max(50, q * 0.05)
q = q - step * (done - p)
q = math.max(tonumber(ARGV[5]), math.min(tonumber(ARGV[6]), q))
redis.call('HSET', KEYS[1], ARGV[1], tostring(math.floor(q)))
redis.call('HINCRBY', KEYS[1], 'observations', 1)
if tonumber(ARGV[7]) >= 0 then
  redis.call('LPUSH', KEYS[2], ARGV[7])
  redis.call('LTRIM', KEYS[2], 0, ${RECENT_DURATIONS_KEPT - 1})
end
return q
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
  /** How long a process reuses what it read. */
  cacheMs?: number;
}

/**
 * What the fleet has learned about how long tasks of one shape (resolution × num) take,
 * kept in Redis so every worker aims its first polls near the typical finish.
 */
export class LearnedPollTiming {
  readonly #o: Required<LearnedPollTimingOptions>;
  readonly #keys: ReturnType<typeof atelierKeys>['drawing'];
  readonly #cache = new Map<string, { at: number; times: LearnedTimes }>();

  constructor(options: LearnedPollTimingOptions) {
    this.#o = { cacheMs: 1000, ...options };
    this.#keys = atelierKeys(options.prefix).drawing;
  }

  static shape(resolution: string, num: number): string {
    return `${resolution}x${num}`;
  }

  async times(shape: string): Promise<LearnedTimes> {
    const cached = this.#cache.get(shape);
    if (cached && Date.now() - cached.at < this.#o.cacheMs) return cached.times;
    const [first, second, observations] = await this.#redis().hmget(
      this.#keys.durations(shape),
      'first',
      'second',
      'observations',
    );
    const firstMs = first ? Number(first) : this.#o.defaultFirstMs;
    const secondMs = Math.max(
      second ? Number(second) : firstMs + this.#o.defaultGapMs,
      firstMs + 250,
    );
    const times = { firstMs, secondMs, observations: Number(observations ?? 0) };
    this.#cache.set(shape, { at: Date.now(), times });
    return times;
  }

  /**
   * Records what a learned poll found. `which` says which guess it checks; `offsetMs` is
   * where that poll actually looked; `observedMs` the submit→seen-done time when done.
   */
  async observe(
    shape: string,
    which: 'first' | 'second',
    done: boolean,
    offsetMs: number,
    observedMs?: number,
  ) {
    const current = await this.times(shape);
    const fallback = which === 'first' ? current.firstMs : current.secondMs;
    const target = which === 'first' ? FIRST_POLL_TARGET : SECOND_POLL_TARGET;
    // Cold start: begin from where this poll looked.
    const base = Number.isFinite(offsetMs) ? offsetMs : fallback;
    const floor = which === 'first' ? 0 : current.firstMs + 250;
    const updated = await this.#redis().eval(
      OBSERVE,
      2,
      this.#keys.durations(shape),
      `${this.#keys.durations(shape)}:recent`,
      which,
      String(Math.round(base)),
      done ? '1' : '0',
      String(target),
      String(floor),
      String(this.#o.ceilingMs),
      String(observedMs === undefined ? -1 : Math.round(observedMs)),
    );
    this.#cache.delete(shape);
    return Number(updated);
  }

  /** Recent submit→seen-done durations of a shape, newest first (for operators and benches). */
  async recent(shape: string): Promise<number[]> {
    const values = await this.#redis().lrange(`${this.#keys.durations(shape)}:recent`, 0, -1);
    return values.map(Number);
  }

  #redis(): RedisClient {
    return this.#o.redis;
  }
}
