import { atelierKeys, type Logger, type PollSchedule } from '@atelier/shared';
import { LuaScript, type RedisClient } from '@atelier/store';
import {
  CENSORED_DURATIONS_DEFAULTS,
  CensoredDurations,
  type CensoredDurationsOptions,
  groupAnswers,
  MIN_WEIGHT,
  type PollAnswer,
  RESCALE_AT,
} from './censored-durations.ts';
import { type DurationEstimate, estimateDurations } from './duration-estimate.ts';
import { type DurationPrior, durationPrior } from './duration-prior.ts';
import { PollPolicy, pollBounds } from './poll-policy.ts';

/**
 * Adds groups of poll answers to a shape's statistics, exactly as `CensoredDurations.add` does
 * (new weight = scale, scale × 2^(n/halfLife), rescale past RESCALE_AT dropping groups under
 * MIN_WEIGHT, then the lightest groups go while there are more than maxGroups).
 * KEYS[1] the statistics hash; ARGV: halfLife, maxGroups, ttlMs, then (from, to, n, done)
 * per group.
 */
const OBSERVE = new LuaScript(`
local key = KEYS[1]
local halfLife, maxGroups = tonumber(ARGV[1]), tonumber(ARGV[2])
local scale = tonumber(redis.call('HGET', key, 'scale') or '1')
local groups = tonumber(redis.call('HGET', key, 'groups') or '0')
local total = 0
for i = 4, #ARGV, 4 do
  local pair = ARGV[i] .. ':' .. ARGV[i + 1]
  local n, done = tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  if redis.call('HSETNX', key, 'n' .. pair, '0') == 1 then groups = groups + 1 end
  redis.call('HINCRBYFLOAT', key, 'n' .. pair, n * scale)
  if done > 0 then redis.call('HINCRBYFLOAT', key, 'd' .. pair, done * scale) end
  total = total + n
end
redis.call('HINCRBY', key, 'count', total)
scale = scale * 2 ^ (total / halfLife)
local function weights()
  local fields = redis.call('HGETALL', key)
  local list = {}
  for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 1) == 'n' then
      list[#list + 1] = {string.sub(fields[i], 2), tonumber(fields[i + 1])}
    end
  end
  return list
end
if scale > ${RESCALE_AT} then
  for _, entry in ipairs(weights()) do
    local pair, w = entry[1], entry[2] / scale
    if w < ${MIN_WEIGHT} then
      redis.call('HDEL', key, 'n' .. pair, 'd' .. pair)
      groups = groups - 1
    else
      redis.call('HSET', key, 'n' .. pair, tostring(w))
      local done = redis.call('HGET', key, 'd' .. pair)
      if done then redis.call('HSET', key, 'd' .. pair, tostring(tonumber(done) / scale)) end
    end
  end
  scale = 1
end
if groups > maxGroups then
  local list = weights()
  table.sort(list, function(a, b) return a[2] < b[2] or (a[2] == b[2] and a[1] < b[1]) end)
  local keep = math.floor(maxGroups * 3 / 4)
  for i = 1, #list - keep do
    redis.call('HDEL', key, 'n' .. list[i][1], 'd' .. list[i][1])
  end
  groups = math.min(#list, keep)
end
redis.call('HSET', key, 'scale', tostring(scale), 'groups', tostring(groups))
redis.call('PEXPIRE', key, ARGV[3])
return groups
`);

export interface LearnedPollTimingOptions {
  redis: RedisClient;
  prefix: string;
  /** The configured schedule (`DRAWING_POLL_*`): cold start, bounds and the cost knob. */
  schedule: PollSchedule;
  /** How long a process reuses the schedule it computed before reading the statistics again (default 1000). */
  refreshMs?: number;
  /** How long a process gathers answers before writing them (default 250). */
  flushMs?: number;
  /** Decay and size of the statistics. */
  stats?: CensoredDurationsOptions;
  /** A shape's statistics are dropped this long after its last answer (default 30 days). */
  ttlMs?: number;
  /** Where a failed read or write of the statistics is reported (polling goes on without it). */
  logger?: Logger;
}

interface Learned {
  at: number;
  count: number;
  estimate: DurationEstimate;
  policy: PollPolicy;
}

/**
 * What the fleet has learned about how long tasks of one shape (resolution × num) take, kept
 * in Redis so every worker plans with it: decayed counts of censored poll answers
 * (`CensoredDurations`), turned into a duration estimate (`estimateDurations`) and the poll
 * schedule that is cheapest for it (`PollPolicy`). Each process reuses its schedule for
 * `refreshMs` and writes answers in batches every `flushMs`, so a job costs no Redis round trip
 * of its own.
 */
export class LearnedPollTiming {
  readonly #o: Required<Omit<LearnedPollTimingOptions, 'stats' | 'logger'>> & {
    stats: Required<CensoredDurationsOptions>;
  };
  readonly #logger: Logger | undefined;
  readonly #keys: ReturnType<typeof atelierKeys>['drawing'];
  readonly #prior: DurationPrior;
  readonly #learned = new Map<string, Learned>();
  readonly #reading = new Map<string, Promise<Learned>>();
  readonly #pending = new Map<string, PollAnswer[]>();
  #flushTimer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(options: LearnedPollTimingOptions) {
    this.#o = {
      redis: options.redis,
      prefix: options.prefix,
      schedule: options.schedule,
      refreshMs: options.refreshMs ?? 1000,
      flushMs: options.flushMs ?? 250,
      ttlMs: options.ttlMs ?? 30 * 24 * 3600 * 1000,
      stats: {
        halfLife: options.stats?.halfLife ?? CENSORED_DURATIONS_DEFAULTS.halfLife,
        maxGroups: options.stats?.maxGroups ?? CENSORED_DURATIONS_DEFAULTS.maxGroups,
      },
    };
    this.#logger = options.logger;
    this.#keys = atelierKeys(options.prefix).drawing;
    this.#prior = durationPrior(options.schedule);
  }

  /** The statistics key's shape name: tasks of one shape are expected to take alike. */
  static shape(resolution: string, num: number): string {
    return `${resolution}x${num}`;
  }

  /** The cheapest schedule for a shape, as this process last computed it. */
  async policy(shape: string, now = Date.now()): Promise<PollPolicy> {
    const learned = this.#learned.get(shape);
    if (learned && now - learned.at < this.#o.refreshMs) return learned.policy;
    return (await this.#refresh(shape, now)).policy;
  }

  /** The duration estimate behind a shape's schedule (operators, benches). */
  async estimate(shape: string, now = Date.now()): Promise<DurationEstimate> {
    await this.policy(shape, now);
    return (this.#learned.get(shape) as Learned).estimate;
  }

  /** The shape's statistics as stored. */
  async statistics(shape: string): Promise<CensoredDurations> {
    const fields = await this.#o.redis.hgetall(this.#keys.pollStats(shape));
    return CensoredDurations.fromFields(fields, this.#o.stats);
  }

  /** Records one poll answer; written to Redis with others after `flushMs` (see `flush`). */
  observe(shape: string, answer: PollAnswer): void {
    const list = this.#pending.get(shape);
    if (list) list.push(answer);
    else this.#pending.set(shape, [answer]);
    this.#flushTimer ??= setTimeout(() => {
      this.#flushTimer = undefined;
      void this.flush().catch((err) =>
        this.#logger?.warn({ err }, 'could not write poll answers to the learned statistics'),
      );
    }, this.#o.flushMs).unref();
  }

  /** Writes gathered answers now (also on close). */
  async flush(): Promise<void> {
    const batches = [...this.#pending];
    this.#pending.clear();
    const run = this.#flushing.then(async () => {
      for (const [shape, answers] of batches) {
        const groups = groupAnswers(answers);
        if (groups.length === 0) continue;
        await OBSERVE.run(
          this.#o.redis,
          [this.#keys.pollStats(shape)],
          [
            this.#o.stats.halfLife,
            this.#o.stats.maxGroups,
            this.#o.ttlMs,
            ...groups.flatMap((g) => [g.from, g.to, g.n, g.done]),
          ],
        );
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

  /** Re-reads a shape's statistics; processes that find their copy stale together share one read. */
  #refresh(shape: string, now: number): Promise<Learned> {
    let reading = this.#reading.get(shape);
    if (!reading) {
      reading = this.#read(shape, now).finally(() => this.#reading.delete(shape));
      this.#reading.set(shape, reading);
    }
    return reading;
  }

  async #read(shape: string, now: number): Promise<Learned> {
    let fields: Record<string, string>;
    try {
      fields = await this.#o.redis.hgetall(this.#keys.pollStats(shape));
    } catch (err) {
      // Polling goes on with what this process knew (or the configured schedule), and tries
      // again after `refreshMs`.
      this.#logger?.warn({ err, shape }, 'could not read the learned poll statistics');
      const known = this.#learned.get(shape);
      if (known) return this.#remember(shape, { ...known, at: now });
      const estimate = estimateDurations([], this.#prior);
      const policy = new PollPolicy(estimate, pollBounds(this.#o.schedule));
      return this.#remember(shape, { at: now, count: -1, estimate, policy });
    }
    const count = Number(fields.count ?? 0);
    const previous = this.#learned.get(shape);
    let learned: Learned;
    if (previous && previous.count === count) {
      learned = { ...previous, at: now };
    } else {
      const stats = CensoredDurations.fromFields(fields, this.#o.stats);
      const estimate = estimateDurations(
        stats.groups(),
        this.#prior,
        previous ? { initial: previous.estimate.hazard } : {},
      );
      learned = {
        at: now,
        count,
        estimate,
        policy: new PollPolicy(estimate, pollBounds(this.#o.schedule)),
      };
    }
    return this.#remember(shape, learned);
  }

  #remember(shape: string, learned: Learned): Learned {
    this.#learned.set(shape, learned);
    return learned;
  }
}
