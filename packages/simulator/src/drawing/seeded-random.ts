/**
 * A small seedable PRNG (mulberry32) so simulated durations and injected faults are
 * reproducible from a seed. Not for anything security-related.
 */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** True with probability `rate` (0..1); draws nothing when the rate is 0 or 1. */
  chance(rate: number): boolean {
    if (rate <= 0) return false;
    if (rate >= 1) return true;
    return this.next() < rate;
  }

  /** A standard normal variate (Box–Muller). */
  normal(): number {
    const u = 1 - this.next(); // (0, 1]: log(u) stays finite
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** An independent stream derived from this one's seed and a salt. */
  static derive(seed: number, salt: number): SeededRandom {
    let h = (seed ^ Math.imul(salt + 1, 0x9e3779b9)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    return new SeededRandom((h ^ (h >>> 16)) >>> 0);
  }
}
