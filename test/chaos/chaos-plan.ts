import type { CutMode } from '../support/tcp-proxy.ts';
import type { ChaosProfile } from './chaos-profile.ts';
import { between } from './chaos-random.ts';

/** Provider storms; `chaos-storms.ts` says what each one injects. */
export const STORM_NAMES = ['maintenance', 'throttle', 'resets', 'html', 'slow', 'mixed'] as const;
export type StormName = (typeof STORM_NAMES)[number];

export type ChaosEvent =
  | { kind: 'storm'; atMs: number; durationMs: number; storm: StormName }
  /** SIGKILL Redis, keep it down `downMs`, restart it on its AOF, measure the recovery. */
  | { kind: 'redis-restart'; atMs: number; downMs: number }
  /** Cut one worker's connections to Redis (its proxy) for `durationMs`, after `CUT_FILL_MS`. */
  | { kind: 'proxy-cut'; atMs: number; durationMs: number; worker: number; mode: CutMode };

/** After a Redis restart no storm starts for this long, so the recovery measured is Redis's. */
export const RECOVERY_WINDOW_MS = 12_000;
/**
 * A cut event first slows the providers down for this long so both workers hold many active
 * jobs when the cut starts, then cuts for `durationMs`.
 */
export const CUT_FILL_MS = 2_500;
/** Kept free after a cut (its fill included) before a Redis restart. */
const CUT_MARGIN_MS = CUT_FILL_MS + 2_000;

/**
 * The chaos phase's events, in time order (worker kills run on their own clock). Proxy cuts
 * and Redis restarts never overlap, spread with equal gaps; storms alternate with calm
 * spells everywhere except around a Redis restart; every storm kind comes up once before any
 * comes again.
 */
export function planChaos(profile: ChaosProfile, random: () => number): ChaosEvent[] {
  const events: ChaosEvent[] = [];
  const exclusive: Array<'cut' | 'restart'> = [];
  for (let i = 0; i < Math.max(profile.cuts, profile.redisRestarts); i++) {
    if (i < profile.cuts) exclusive.push('cut');
    if (i < profile.redisRestarts) exclusive.push('restart');
  }
  const span = (kind: 'cut' | 'restart') =>
    kind === 'cut' ? profile.cutMs + CUT_MARGIN_MS : profile.redisDownMs + RECOVERY_WINDOW_MS;
  const busy = exclusive.reduce((total, kind) => total + span(kind), 0);
  const room = profile.chaosMs - profile.leadInMs;
  if (busy > room) {
    throw new RangeError(
      `profile ${profile.name}: cuts and Redis restarts need ${busy} ms, more than chaosMs - leadInMs (${room})`,
    );
  }
  const gap = (room - busy) / (exclusive.length + 1);
  let at = profile.leadInMs + gap;
  let cuts = 0;
  for (const kind of exclusive) {
    if (kind === 'cut') {
      events.push({
        kind: 'proxy-cut',
        atMs: Math.round(at),
        durationMs: profile.cutMs,
        worker: cuts % 2,
        mode: cuts % 2 === 0 ? 'stall' : 'reset',
      });
      cuts++;
    } else {
      events.push({ kind: 'redis-restart', atMs: Math.round(at), downMs: profile.redisDownMs });
    }
    at += span(kind) + gap;
  }

  const restarts = events.filter((e) => e.kind === 'redis-restart');
  const quiet = (start: number, end: number) =>
    restarts.every((r) => end <= r.atMs || start >= r.atMs + r.downMs + RECOVERY_WINDOW_MS);
  let order: StormName[] = [];
  for (let start = between(random, profile.calmMs); start < profile.chaosMs; ) {
    const durationMs = Math.round(between(random, profile.stormMs));
    const end = Math.min(start + durationMs, profile.chaosMs);
    if (quiet(start, end)) {
      if (order.length === 0) order = shuffled(STORM_NAMES, random);
      const storm = order.pop() as StormName;
      events.push({ kind: 'storm', atMs: Math.round(start), durationMs: end - start, storm });
    }
    start = end + between(random, profile.calmMs);
  }
  return events.sort((a, b) => a.atMs - b.atMs);
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}
