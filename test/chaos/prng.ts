/**
 * A seeded PRNG (mulberry32): every choice the harness makes comes from one of these, so a run is
 * replayed from the seed it prints. Separate streams (per client, for the proxy, for the fault
 * schedule) keep one stream's choices independent of how many draws another one made.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** True with probability p. */
  chance(p: number): boolean;
  /** A new independent stream, derived from this one's seed and `label`. */
  fork(label: string): Rng;
}

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const self: Rng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick<T>(items: readonly T[]): T {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new Error('pick from an empty list');
      return item;
    },
    chance: (p) => next() < p,
    fork(label) {
      // FNV-1a of the label mixed with the parent's seed: a stable, distinct child seed.
      let h = 0x811c9dc5 ^ (seed >>> 0);
      for (let i = 0; i < label.length; i += 1) {
        h ^= label.charCodeAt(i);
        h = Math.imul(h, 0x01000193) >>> 0;
      }
      return rng(h);
    },
  };
  return self;
}
