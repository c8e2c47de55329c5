import { AtelierError, ProviderError } from '@atelier/shared';
import { describe, expect, it } from 'vitest';
import { createBackoffStrategy } from '../../src/runtime/backoff.ts';

const BASE = 1000;
const MAX = 60_000;

/** The strategy with a fixed draw of randomness (`random` in [0, 1)). */
function delayFor(attemptsMade: number, error?: Error, random = 0.5): number {
  const strategy = createBackoffStrategy({ baseMs: BASE, maxMs: MAX, random: () => random });
  return Number(strategy(attemptsMade, 'atelier', error as Error));
}

const transient = new AtelierError('boom', { code: 'HTTP_503', retryable: true });

describe('backoff strategy', () => {
  it('grows exponentially from the base: half fixed, half random ("equal jitter")', () => {
    // attempt n: exponential = base * 2^(n-1); the delay lies in [exponential/2, exponential].
    expect([1, 2, 3, 4].map((n) => delayFor(n, transient, 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((n) => delayFor(n, transient, 0.5))).toEqual([750, 1500, 3000, 6000]);
    expect(delayFor(3, transient, 0.999_999)).toBe(4000);
  });

  it('caps the exponential at the maximum', () => {
    expect(delayFor(20, transient, 0)).toBe(MAX / 2);
    expect(delayFor(20, transient, 0.999_999)).toBe(MAX);
  });

  it("takes the error's own hint first, capped at the maximum, without jitter", () => {
    const hinted = (retryAfterMs: number) =>
      new ProviderError('slow down', {
        provider: 'cme',
        kind: 'retryable',
        code: 'RequestLimitExceeded',
        retryAfterMs,
      });
    expect(delayFor(1, hinted(7000), 0)).toBe(7000);
    expect(delayFor(5, hinted(7000), 0.9)).toBe(7000);
    expect(delayFor(1, hinted(10 * MAX), 0)).toBe(MAX);
  });

  it('ignores a hint that is not a positive number, or on an error without a code', () => {
    const zero = new AtelierError('x', { code: 'HTTP_503', retryable: true, retryAfterMs: 0 });
    expect(delayFor(2, zero, 0)).toBe(1000);
    const uncoded = Object.assign(new Error('plain'), { retryAfterMs: 7000 });
    expect(delayFor(2, uncoded, 0)).toBe(1000);
    expect(delayFor(2, undefined, 0)).toBe(1000);
  });
});
