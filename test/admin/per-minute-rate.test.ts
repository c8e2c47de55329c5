import { describe, expect, it } from 'vitest';
import { perMinuteRate } from '../../packages/producer/src/admin/per-minute-rate.ts';

const MIN = 60_000;
const now = 1_000 * MIN + 30_000; // half-way through minute 1000

describe('per-minute rates from BullMQ metrics', () => {
  it('averages the whole minutes of the window plus what is not yet in a data point', () => {
    // Last data point written in minute 1000: data[0] is minute 999, data[1] minute 998, …
    const metrics = {
      meta: { count: 130, prevTS: 1_000 * MIN + 5_000, prevCount: 100 },
      data: [10, 20, 30, 40, 50, 1000],
      count: 6,
    };
    // Window: minutes 995..999 → 10+20+30+40+50, plus 30 since prevTS.
    expect(perMinuteRate(metrics, now, 5)).toBe((150 + 30) / 5);
  });

  it('counts nothing for a queue idle longer than the window', () => {
    const metrics = {
      meta: { count: 500, prevTS: 900 * MIN, prevCount: 400 },
      data: [100, 100],
      count: 2,
    };
    expect(perMinuteRate(metrics, now, 5)).toBe(0);
    expect(
      perMinuteRate({ meta: { count: 0, prevTS: 0, prevCount: 0 }, data: [], count: 0 }, now),
    ).toBe(0);
  });
});
