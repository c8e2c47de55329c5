import type { SeededRandom } from './seeded-random.ts';

/** How long the simulated upstream takes to draw one task. */
export type DurationDistribution =
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  /** `medianMs · e^(sigma·Z)`, capped at `maxMs` when given. */
  | { kind: 'lognormal'; medianMs: number; sigma: number; maxMs?: number };

/** About 10 s typical, a few-percent tail past 15 s (drawing spec, Timing). */
export const DEFAULT_DURATION: DurationDistribution = Object.freeze({
  kind: 'lognormal',
  medianMs: 9_000,
  sigma: 0.35,
  maxMs: 120_000,
});

export function sampleDurationMs(distribution: DurationDistribution, random: SeededRandom): number {
  switch (distribution.kind) {
    case 'fixed':
      return distribution.ms;
    case 'uniform':
      return distribution.minMs + random.next() * (distribution.maxMs - distribution.minMs);
    case 'lognormal': {
      const ms = distribution.medianMs * Math.exp(distribution.sigma * random.normal());
      return Math.min(ms, distribution.maxMs ?? Number.POSITIVE_INFINITY);
    }
  }
}

/** Throws a message naming `option` when the distribution cannot be sampled. */
export function assertDurationDistribution(
  distribution: DurationDistribution,
  option: string,
): void {
  const bad = (rule: string) => new RangeError(`${option}: ${rule}`);
  const nonNegative = (value: unknown) =>
    typeof value === 'number' && Number.isFinite(value) && value >= 0;
  switch (distribution.kind) {
    case 'fixed':
      if (!nonNegative(distribution.ms)) throw bad('ms must be a finite number >= 0');
      return;
    case 'uniform':
      if (!nonNegative(distribution.minMs) || !nonNegative(distribution.maxMs)) {
        throw bad('minMs and maxMs must be finite numbers >= 0');
      }
      if (distribution.minMs > distribution.maxMs) throw bad('minMs must not exceed maxMs');
      return;
    case 'lognormal':
      if (!nonNegative(distribution.medianMs) || !nonNegative(distribution.sigma)) {
        throw bad('medianMs and sigma must be finite numbers >= 0');
      }
      if (distribution.maxMs !== undefined && !nonNegative(distribution.maxMs)) {
        throw bad('maxMs must be a finite number >= 0');
      }
      return;
    default:
      throw bad(`unknown kind ${JSON.stringify((distribution as { kind: unknown }).kind)}`);
  }
}
