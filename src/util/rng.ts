/**
 * Seeded pseudo-random numbers: the same seed gives the same stream on every machine.
 *
 * The generator is SplitMix64 on BigInt-free 32-bit halves (xoshiro-grade quality is not needed;
 * reproducibility and speed are). Uniforms have 53 random bits so the inverse-CDF sampler can
 * tell apart probabilities as small as 2^-53.
 * @module
 */

/** A seeded generator of uniform numbers in [0, 1) and derived draws. */
export class Rng {
  #hi: number;
  #lo: number;

  /**
   * Create a generator from an integer seed (any safe integer; negative allowed).
   * @example
   * const rng = new Rng(42);
   * rng.next(); // same value on every run
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`seed must be a safe integer, got ${seed}`);
    }
    this.#hi = Math.floor(seed / 0x100000000) >>> 0;
    this.#lo = seed >>> 0;
  }

  /** Next 32 random bits as an unsigned integer (SplitMix64, high word of the mixed state). */
  #next32(): number {
    // state += 0x9E3779B97F4A7C15 (64-bit add on two 32-bit halves)
    const lo = (this.#lo + 0x7f4a7c15) >>> 0;
    const carry = lo < this.#lo ? 1 : 0;
    this.#hi = (this.#hi + 0x9e3779b9 + carry) >>> 0;
    this.#lo = lo;
    // Mix: a 32-bit finalizer over both halves (murmur3 fmix), enough for statistical quality.
    let h = (this.#hi ^ Math.imul(this.#lo, 0x85ebca6b)) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    let g = (this.#lo ^ Math.imul(this.#hi ^ h, 0x27d4eb2f)) >>> 0;
    g ^= g >>> 15;
    g = Math.imul(g, 0x2c1b3c6d);
    g ^= g >>> 12;
    g = Math.imul(g, 0x297a2d39);
    g ^= g >>> 15;
    return (h ^ g) >>> 0;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  next(): number {
    const a = this.#next32() >>> 5; // 27 bits
    const b = this.#next32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) {
      throw new RangeError(`n must be a positive integer, got ${n}`);
    }
    return Math.floor(this.next() * n);
  }

  /**
   * Jump ahead as if `count` uniforms had been drawn (each draw advances the state twice), in
   * constant time: shard k of a run starts exactly where the unsharded stream has image k.
   * @example
   * const a = new Rng(1); a.uniforms(1000);
   * const b = new Rng(1).skip(1000);
   * a.next() === b.next(); // true
   */
  skip(count: number): this {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`skip: count must be a non-negative safe integer, got ${count}`);
    }
    const mask = (1n << 64n) - 1n;
    const state = (BigInt(this.#hi) << 32n) | BigInt(this.#lo);
    const next = (state + BigInt(2 * count) * 0x9e3779b97f4a7c15n) & mask;
    this.#hi = Number(next >> 32n);
    this.#lo = Number(next & 0xffffffffn);
    return this;
  }

  /** Fill a new Float64Array of length `n` with uniforms in [0, 1). */
  uniforms(n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next();
    return out;
  }

  /** Shuffle an array in place (Fisher–Yates) and return it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }
}
