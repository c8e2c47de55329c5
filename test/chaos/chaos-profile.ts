/** Sizes and timings of one chaos run; `--quick` for CI, the full one for RESULTS. */
export interface ChaosProfile {
  name: 'quick' | 'full';
  /** Single drawings through POST /v1/drawings. */
  drawings: number;
  /** Items of the one batch through POST /v1/batches. */
  batchItems: number;
  /** CME operations through POST /v1/cme/operations. */
  cmeOps: number;
  /** Drawings and CME operations in flight when everything gets SIGTERM with Redis down. */
  shutdownWave: { drawings: number; cmeOps: number };
  /** Submissions are spread over this long from the start of the chaos phase. */
  loadMs: number;
  /** Length of the chaos phase (kills, storms, Redis restarts, proxy cuts). */
  chaosMs: number;
  /** No proxy cut or Redis restart before this (work has to be in flight first). */
  leadInMs: number;
  /** A random worker is SIGKILLed (and restarted) every `[min, max]` ms. */
  killEveryMs: [number, number];
  redisRestarts: number;
  /** How long Redis stays down at each restart. */
  redisDownMs: number;
  /** Proxy cuts (one worker's Redis connections each), each lasting `cutMs`. */
  cuts: number;
  cutMs: number;
  stormMs: [number, number];
  calmMs: [number, number];
  /**
   * After everything is back up: how long jobs get to end before the rest count as stuck. Jobs
   * that were active at the SIGTERM wait for their locks to lapse and for two stalled checks
   * (BullMQ's `stalled-check` key, kept in the AOF, can skip the first): about 65 s.
   */
  drainMs: number;
}

/**
 * BullMQ's lock duration in the worker entry point is its default, 30 s (not configurable):
 * a cut must outlast it for the lock to go. The other worker is restarted as a cut starts, so
 * its stalled checks (at start, then every 30 s) take the cut worker's jobs over about 31 s in,
 * within even the quick run's 35 s; the full run's 65 s leaves the jobs re-run for longer.
 */
export const CHAOS_PROFILES: Readonly<Record<ChaosProfile['name'], ChaosProfile>> = {
  quick: {
    name: 'quick',
    drawings: 300,
    batchItems: 100,
    cmeOps: 60,
    shutdownWave: { drawings: 30, cmeOps: 10 },
    loadMs: 55_000,
    chaosMs: 62_000,
    leadInMs: 6_000,
    killEveryMs: [6_000, 10_000],
    redisRestarts: 1,
    redisDownMs: 3_000,
    cuts: 1,
    cutMs: 35_000,
    stormMs: [4_000, 7_000],
    calmMs: [3_000, 6_000],
    drainMs: 95_000,
  },
  full: {
    name: 'full',
    drawings: 1_000,
    batchItems: 300,
    cmeOps: 250,
    shutdownWave: { drawings: 60, cmeOps: 20 },
    loadMs: 240_000,
    chaosMs: 260_000,
    leadInMs: 20_000,
    killEveryMs: [4_000, 10_000],
    redisRestarts: 3,
    redisDownMs: 4_000,
    cuts: 2,
    cutMs: 65_000,
    stormMs: [5_000, 10_000],
    calmMs: [4_000, 8_000],
    drainMs: 240_000,
  },
};
