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

  it('clips a lognormal to [minMs, maxMs]', () => {
    const random = new SeededRandom(7);
    const drawn = samples(4000, () =>
      sampleDurationMs(
        { kind: 'lognormal', medianMs: 8000, sigma: 0.5, minMs: 3000, maxMs: 30_000 },
        random,
      ),
    );
    expect(drawn[0]).toBe(3000);
    expect(drawn.at(-1)).toBeLessThanOrEqual(30_000);
    // About 2.5 % fall below 3 s (z = −1.96) and are drawn as 3 s.
    const atMin = drawn.filter((ms) => ms === 3000).length / drawn.length;
    expect(atMin).toBeGreaterThan(0.01);
    expect(atMin).toBeLessThan(0.05);
  });

  it('draws by num when the distribution is bimodal by images per task', () => {
    const random = new SeededRandom(8);
    const distribution = {
      kind: 'byNum' as const,
      byNum: { 4: { kind: 'fixed' as const, ms: 18_000 } },
      otherwise: { kind: 'fixed' as const, ms: 6000 },
    };
    expect(sampleDurationMs(distribution, random, 1)).toBe(6000);
    expect(sampleDurationMs(distribution, random, 4)).toBe(18_000);
    expect(sampleDurationMs(distribution, random, 2)).toBe(6000);
    expect(() =>
      assertDurationDistribution(
        { kind: 'byNum', byNum: { 2: { kind: 'fixed', ms: -1 } }, otherwise: distribution },
        'opts.duration',
      ),
    ).toThrow(/opts\.duration\.byNum\.2: ms must be/);
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
    expect(() =>
      assertDurationDistribution(
        { kind: 'lognormal', medianMs: 8000, sigma: 0.5, minMs: 40_000, maxMs: 30_000 },
        'd',
      ),
    ).toThrow(/d: minMs must not exceed maxMs/);
  });
});
