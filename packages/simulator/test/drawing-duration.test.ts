import { describe, expect, it } from 'vitest';
import {
  assertDurationDistribution,
  DEFAULT_DURATION,
  sampleDurationMs,
} from '../src/drawing/duration-distribution.ts';
import { SeededRandom } from '../src/drawing/seeded-random.ts';

function samples(n: number, draw: () => number): number[] {
  return Array.from({ length: n }, draw).sort((a, b) => a - b);
}

describe('drawing task durations', () => {
  it('samples fixed and uniform distributions within their bounds', () => {
    const random = new SeededRandom(1);
    expect(sampleDurationMs({ kind: 'fixed', ms: 1234 }, random)).toBe(1234);
    const uniform = samples(1000, () =>
      sampleDurationMs({ kind: 'uniform', minMs: 100, maxMs: 200 }, random),
    );
    expect(uniform[0]).toBeGreaterThanOrEqual(100);
    expect(uniform.at(-1)).toBeLessThan(200);
    expect(uniform[500]).toBeGreaterThan(140);
    expect(uniform[500]).toBeLessThan(160);
  });

  it('defaults to about 10 s with an occasional long tail, capped', () => {
    const random = new SeededRandom(42);
    const drawn = samples(4000, () => sampleDurationMs(DEFAULT_DURATION, random));
    const median = drawn[2000] as number;
    expect(median).toBeGreaterThan(8_500);
    expect(median).toBeLessThan(9_500);
    const over15s = drawn.filter((ms) => ms > 15_000).length / drawn.length;
    expect(over15s).toBeGreaterThan(0.02);
    expect(over15s).toBeLessThan(0.15);
    const capped = sampleDurationMs(
      { kind: 'lognormal', medianMs: 1e9, sigma: 0, maxMs: 5 },
      random,
    );
    expect(capped).toBe(5);
  });

  it('draws the same sequence from the same seed and another from another seed', () => {
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      return samples(5, () => sampleDurationMs(DEFAULT_DURATION, random));
    };
    expect(draw(3)).toEqual(draw(3));
    expect(draw(3)).not.toEqual(draw(4));
  });

  it('refuses distributions it cannot sample, naming the option', () => {
    expect(() =>
      assertDurationDistribution({ kind: 'uniform', minMs: 5, maxMs: 1 }, 'opts.duration'),
    ).toThrow(/opts\.duration: minMs must not exceed maxMs/);
    expect(() => assertDurationDistribution({ kind: 'fixed', ms: -1 }, 'd')).toThrow(/^d: /);
  });
});
