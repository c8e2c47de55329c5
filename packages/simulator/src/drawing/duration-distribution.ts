import type { SeededRandom } from './seeded-random.ts';

/** How long the simulated upstream takes to draw one task. */
export type DurationDistribution =
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  /** `medianMs · e^(sigma·Z)`, clipped to [`minMs`, `maxMs`] when given. */
  | { kind: 'lognormal'; medianMs: number; sigma: number; minMs?: number; maxMs?: number }
  /** A distribution per `num` (images per task); `num`s not listed draw from `otherwise`. */
  | {
      kind: 'byNum';
      byNum: Readonly<Record<number, DurationDistribution>>;
      otherwise: DurationDistribution;
    };

/** About 10 s typical, a few-percent tail past 15 s (drawing spec, Timing). */
export const DEFAULT_DURATION: DurationDistribution = Object.freeze({
  kind: 'lognormal',
  medianMs: 9_000,
  sigma: 0.35,
  maxMs: 120_000,
});

export function sampleDurationMs(
  distribution: DurationDistribution,
  random: SeededRandom,
  num = 1,
): number {
  switch (distribution.kind) {
    case 'fixed':
      return distribution.ms;
    case 'uniform':
      return distribution.minMs + random.next() * (distribution.maxMs - distribution.minMs);
    case 'lognormal': {
      const ms = distribution.medianMs * Math.exp(distribution.sigma * random.normal());
      return Math.max(
        distribution.minMs ?? 0,
        Math.min(ms, distribution.maxMs ?? Number.POSITIVE_INFINITY),
      );
    }
    case 'byNum':
      return sampleDurationMs(distribution.byNum[num] ?? distribution.otherwise, random, num);
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
      if (distribution.minMs !== undefined && !nonNegative(distribution.minMs)) {
        throw bad('minMs must be a finite number >= 0');
      }
      if ((distribution.minMs ?? 0) > (distribution.maxMs ?? Number.POSITIVE_INFINITY)) {
        throw bad('minMs must not exceed maxMs');
      }
      return;
    case 'byNum':
      if (typeof distribution.byNum !== 'object' || distribution.byNum === null) {
        throw bad('byNum must map num to a distribution');
      }
      for (const [num, inner] of Object.entries(distribution.byNum)) {
        if (!/^[1-9]\d*$/.test(num))
          throw bad(`byNum keys must be positive integers, got "${num}"`);
        assertDurationDistribution(inner, `${option}.byNum.${num}`);
      }
      assertDurationDistribution(distribution.otherwise, `${option}.otherwise`);
      return;
    default:
      throw bad(`unknown kind ${JSON.stringify((distribution as { kind: unknown }).kind)}`);
  }
}
