import { describe, expect, it } from 'vitest';
import { CensoredDurations, groupAnswers } from '../../src/drawing/censored-durations.ts';
import { seeded } from './duration-fixtures.ts';

describe('CensoredDurations', () => {
  it('groups poll answers by (from, to) and counts the done ones', () => {
    const groups = groupAnswers([
      { from: -1, to: 40, done: false },
      { from: -1, to: 40, done: true },
      { from: -1, to: 40, done: false },
      { from: 40, to: 60, done: true },
    ]);
    expect(groups).toEqual([
      { from: -1, to: 40, n: 3, done: 1 },
      { from: 40, to: 60, n: 1, done: 1 },
    ]);
  });

  it('a done answer rounded onto its previous point counts in the next step; a pending one says nothing', () => {
    expect(
      groupAnswers([
        { from: 30, to: 30, done: true },
        { from: 30, to: 29, done: false },
      ]),
    ).toEqual([{ from: 30, to: 31, n: 1, done: 1 }]);
  });

  it('decays: once halfLife newer answers have come in, an older group weighs half as much', () => {
    const stats = new CensoredDurations({ halfLife: 100 });
    stats.add([{ from: -1, to: 10, n: 1, done: 1 }]);
    const weightOf = () => stats.groups().find((g) => g.to === 10)?.n ?? 0;
    const fresh = weightOf();
    for (let i = 0; i < 10; i++) stats.add([{ from: -1, to: 20, n: 10, done: 4 }]);
    expect(weightOf() / fresh).toBeCloseTo(0.5, 9);
    // The done share of a group does not decay apart from its count.
    const older = stats.groups().find((g) => g.to === 20);
    expect((older?.done ?? 0) / (older?.n ?? 1)).toBeCloseTo(0.4, 9);
  });

  it('keeps its memory bounded: rescales, forgets light groups, never holds more than maxGroups', () => {
    const stats = new CensoredDurations({ halfLife: 50, maxGroups: 40 });
    const random = seeded(3);
    let largest = 0;
    for (let i = 0; i < 20_000; i++) {
      const from = Math.floor(random() * 200) - 1;
      stats.add([
        { from, to: from + 1 + Math.floor(random() * 50), n: 1, done: random() < 0.5 ? 1 : 0 },
      ]);
      largest = Math.max(largest, stats.size);
    }
    expect(largest).toBeLessThanOrEqual(40);
    expect(stats.count).toBe(20_000);
    // Total weight stays near what the half-life allows (≈ halfLife / ln 2), however long it runs.
    expect(Number.isFinite(stats.weight)).toBe(true);
    expect(stats.weight).toBeLessThanOrEqual(50 / Math.LN2 + 1);
    for (const g of stats.groups()) {
      expect(g.n).toBeGreaterThan(0);
      expect(g.done).toBeLessThanOrEqual(g.n);
    }
  });

  it('reads its stored form back (the Redis hash fields)', () => {
    const stats = CensoredDurations.fromFields({
      scale: '4',
      count: '12',
      groups: '2',
      'n-1:40': '8',
      'd-1:40': '2',
      'n40:60': '4',
    });
    expect(stats.count).toBe(12);
    expect(stats.groups()).toEqual([
      { from: -1, to: 40, n: 2, done: 0.5 },
      { from: 40, to: 60, n: 1, done: 0 },
    ]);
  });
});
