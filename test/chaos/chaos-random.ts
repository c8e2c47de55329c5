/** A seedable PRNG (mulberry32): a chaos run is replayed from its printed seed. */
export function chaosRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform value in [min, max). */
export function between(random: () => number, [min, max]: readonly [number, number]): number {
  return min + random() * (max - min);
}
