import { describe, expect, it } from 'vitest';
import { CUT_FILL_MS, planChaos, RECOVERY_WINDOW_MS, STORM_NAMES } from './chaos-plan.ts';
import { CHAOS_PROFILES } from './chaos-profile.ts';
import { chaosRandom } from './chaos-random.ts';

describe('chaos plan', () => {
  it.each(Object.values(CHAOS_PROFILES))(
    '$name: cuts and Redis restarts never overlap, storms stay clear of restarts',
    (profile) => {
      for (const seed of [1, 2, 3, 42, 1234]) {
        const events = planChaos(profile, chaosRandom(seed));
        const cuts = events.filter((e) => e.kind === 'proxy-cut');
        const restarts = events.filter((e) => e.kind === 'redis-restart');
        expect(cuts).toHaveLength(profile.cuts);
        expect(restarts).toHaveLength(profile.redisRestarts);
        const windows = [
          ...cuts.map((c) => [c.atMs, c.atMs + CUT_FILL_MS + c.durationMs] as const),
          ...restarts.map((r) => [r.atMs, r.atMs + r.downMs + RECOVERY_WINDOW_MS] as const),
        ].sort((a, b) => a[0] - b[0]);
        for (let i = 1; i < windows.length; i++) {
          expect(windows[i]?.[0]).toBeGreaterThanOrEqual(windows[i - 1]?.[1] as number);
        }
        expect(windows[0]?.[0]).toBeGreaterThanOrEqual(profile.leadInMs);
        expect(windows.at(-1)?.[1]).toBeLessThanOrEqual(profile.chaosMs);
        for (const storm of events.filter((e) => e.kind === 'storm')) {
          for (const r of restarts) {
            const clear =
              storm.atMs + storm.durationMs <= r.atMs ||
              storm.atMs >= r.atMs + r.downMs + RECOVERY_WINDOW_MS;
            expect(clear).toBe(true);
          }
        }
      }
    },
  );

  it('brings every storm kind up once before repeating one (full run)', () => {
    const storms = planChaos(CHAOS_PROFILES.full, chaosRandom(7))
      .filter((e) => e.kind === 'storm')
      .map((e) => e.storm);
    expect(storms.length).toBeGreaterThan(STORM_NAMES.length);
    expect(new Set(storms.slice(0, STORM_NAMES.length))).toEqual(new Set(STORM_NAMES));
  });

  it('refuses a profile whose cuts and restarts do not fit', () => {
    const tight = { ...CHAOS_PROFILES.quick, chaosMs: 40_000 };
    expect(() => planChaos(tight, chaosRandom(1))).toThrow(/need \d+ ms, more than/);
  });
});
