/**
 * What polls have said about task durations, as decayed counts of censored observations.
 *
 * One poll answer is one observation `(from, to, done)` on the duration grid: the task was
 * still pending at grid point `from` (−1: nothing known yet, the first poll) and at `to` it was
 * done (duration in `(from, to]`) or still pending (duration > `to`). Multiplied over a task's
 * polls these conditional answers give exactly the likelihood of its censored duration —
 * including tasks still running — so every answer can be counted the moment it arrives, in any
 * order, with no per-task memory. Observations with the same `(from, to)` are one group.
 *
 * Decay: each new observation shrinks the weight of all older ones by 2^(−1/halfLife), so the
 * estimate follows a provider that changes while bursts of identical tasks cannot swing it. It
 * is done with one running `scale` (new weight = scale, scale grows), rescaled once it passes
 * `RESCALE_AT`, when groups lighter than `MIN_WEIGHT` are dropped; at most `maxGroups` groups are
 * kept (the lightest go first). The Redis copy (`learned-poll-timing.ts`) follows these rules
 * step by step in Lua; the integration test checks that both agree.
 */
export interface ObservationGroup {
  /** Grid index where the task was last seen pending (−1: not polled before). */
  from: number;
  /** Grid index of this poll. */
  to: number;
  /** Observations (weighted). */
  n: number;
  /** Of which found the task done. */
  done: number;
}

export interface PollAnswer {
  from: number;
  to: number;
  done: boolean;
}

export interface CensoredDurationsOptions {
  /** Observations after which an older one counts half (default 4000). */
  halfLife?: number;
  /** Groups kept at most (default 1000). */
  maxGroups?: number;
}

export const CENSORED_DURATIONS_DEFAULTS: Readonly<Required<CensoredDurationsOptions>> =
  Object.freeze({ halfLife: 4000, maxGroups: 1000 });

/** Scale above which stored weights are divided back down. */
export const RESCALE_AT = 1e6;
/** Groups whose weight falls below this at a rescale are forgotten. */
export const MIN_WEIGHT = 0.01;

export class CensoredDurations {
  readonly #o: Required<CensoredDurationsOptions>;
  readonly #n = new Map<string, number>();
  readonly #done = new Map<string, number>();
  #scale = 1;
  #count = 0;

  constructor(options: CensoredDurationsOptions = {}) {
    this.#o = resolveOptions(options);
  }

  /**
   * Rebuilds the statistics from their stored form: `scale`, `count`, `n<from>:<to>` and
   * `d<from>:<to>` fields (a Redis hash).
   */
  static fromFields(
    fields: Readonly<Record<string, string>>,
    options: CensoredDurationsOptions = {},
  ): CensoredDurations {
    const stats = new CensoredDurations(options);
    for (const [field, value] of Object.entries(fields)) {
      const number = Number(value);
      if (!Number.isFinite(number)) continue;
      if (field === 'scale') stats.#scale = Math.max(1, number);
      else if (field === 'count') stats.#count = number;
      else if (field.startsWith('n')) stats.#n.set(field.slice(1), number);
      else if (field.startsWith('d')) stats.#done.set(field.slice(1), number);
    }
    return stats;
  }

  /** Raw observations ever added (not decayed). */
  get count(): number {
    return this.#count;
  }

  /** Groups held. */
  get size(): number {
    return this.#n.size;
  }

  /** Sum of the current weights (the newest observation weighs about 1). */
  get weight(): number {
    let total = 0;
    for (const n of this.#n.values()) total += n;
    return total / this.#scale;
  }

  add(groups: readonly ObservationGroup[]): void {
    let total = 0;
    for (const g of groups) {
      const key = `${g.from}:${g.to}`;
      this.#n.set(key, (this.#n.get(key) ?? 0) + g.n * this.#scale);
      if (g.done > 0) this.#done.set(key, (this.#done.get(key) ?? 0) + g.done * this.#scale);
      total += g.n;
    }
    this.#count += total;
    this.#scale *= 2 ** (total / this.#o.halfLife);
    if (this.#scale > RESCALE_AT) this.#rescale();
    if (this.#n.size > this.#o.maxGroups) this.#prune();
  }

  /** The groups with their current weights. */
  groups(): ObservationGroup[] {
    const out: ObservationGroup[] = [];
    for (const [key, n] of this.#n) {
      const [from, to] = key.split(':').map(Number) as [number, number];
      const done = Math.min(n, this.#done.get(key) ?? 0);
      out.push({ from, to, n: n / this.#scale, done: done / this.#scale });
    }
    return out;
  }

  #rescale(): void {
    const scale = this.#scale;
    for (const [key, n] of this.#n) {
      const weight = n / scale;
      if (weight < MIN_WEIGHT) {
        this.#n.delete(key);
        this.#done.delete(key);
        continue;
      }
      this.#n.set(key, weight);
      const done = this.#done.get(key);
      if (done !== undefined) this.#done.set(key, done / scale);
    }
    this.#scale = 1;
  }

  /** Drops the lightest groups (ties: by key) down to three quarters of the limit. */
  #prune(): void {
    const keep = Math.floor((this.#o.maxGroups * 3) / 4);
    const lightest = [...this.#n].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    for (const [key] of lightest.slice(0, lightest.length - keep)) {
      this.#n.delete(key);
      this.#done.delete(key);
    }
  }
}

/**
 * Poll answers as groups: a `done` whose `to` is not after `from` (both rounded to the same
 * point) is counted in the point after `from`; a pending one there says nothing and is dropped.
 */
export function groupAnswers(answers: readonly PollAnswer[]): ObservationGroup[] {
  const groups = new Map<string, ObservationGroup>();
  for (const answer of answers) {
    let to = answer.to;
    if (to <= answer.from) {
      if (!answer.done) continue;
      to = answer.from + 1;
    }
    const key = `${answer.from}:${to}`;
    const group = groups.get(key) ?? { from: answer.from, to, n: 0, done: 0 };
    group.n++;
    if (answer.done) group.done++;
    groups.set(key, group);
  }
  return [...groups.values()];
}

function resolveOptions(options: CensoredDurationsOptions): Required<CensoredDurationsOptions> {
  const resolved = {
    halfLife: options.halfLife ?? CENSORED_DURATIONS_DEFAULTS.halfLife,
    maxGroups: options.maxGroups ?? CENSORED_DURATIONS_DEFAULTS.maxGroups,
  };
  if (!(resolved.halfLife > 0)) throw new RangeError('CensoredDurations.halfLife must be > 0');
  if (!Number.isInteger(resolved.maxGroups) || resolved.maxGroups < 4) {
    throw new RangeError('CensoredDurations.maxGroups must be an integer >= 4');
  }
  return resolved;
}
