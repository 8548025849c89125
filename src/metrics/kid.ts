/**
 * Kernel distance (KID, Bińkowski et al. 2018): the unbiased estimate of the squared maximum mean
 * discrepancy (MMD^2) between two feature sets under the cubic polynomial kernel
 *
 *   k(x, y) = (x . y / d + 1)^3,
 *
 * averaged over random subsets as the standard implementations do (100 subsets of 1000 vectors
 * by default, each drawn without replacement from each set; fewer when a set is smaller).
 * Unlike the Fréchet distance it is unbiased: its expectation is 0 when both sets come from the
 * same distribution, so small sample sizes compare fairly, and single subsets can be negative.
 * @module
 */
import { Rng } from "../util/rng.ts";
import { checkFeatureSet, type FeatureSet } from "./features.ts";

/** Settings of {@link kernelDistance}. */
export interface KidOptions {
  /** Number of random subsets averaged (default 100). */
  subsets?: number;
  /** Vectors per subset, capped at the smaller set's size (default 1000). */
  subsetSize?: number;
  /** Seed of the subset draws (default 0). */
  seed?: number;
  /**
   * Most kernel values kept in memory (default 16 Mi float32 = 64 MiB: all three Gram matrices
   * of two sets of 2300). Each whole-set Gram matrix (a-a, a-b, b-b) that fits is computed once
   * and every subset sums look-ups in it (d times cheaper than recomputing dot products per
   * subset); the others are computed per subset. Both give the same values up to rounding.
   */
  cacheLimit?: number;
}

/** KID over subsets: mean and (population) standard deviation of the per-subset MMD^2. */
export interface KidResult {
  /** Mean unbiased MMD^2 over the subsets. */
  mean: number;
  /** Standard deviation of the per-subset values (divided by the number of subsets). */
  std: number;
  /** Number of subsets used. */
  subsets: number;
  /** Vectors per subset used. */
  subsetSize: number;
}

/** The first m entries of a seeded permutation of [0, n) (partial Fisher–Yates). */
function drawWithoutReplacement(n: number, m: number, rng: Rng): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.subarray(0, m);
}

/**
 * Cubic polynomial kernel values k(a_i, b_j) for all pairs: [na, nb] row-major, stored in `out`
 * (float64 for one subset, float32 for the whole-set cache: a relative rounding of 6e-8 per value
 * is far below KID's sampling noise, and it halves the memory).
 */
function gram<T extends Float32Array | Float64Array>(
  a: Float32Array | Float64Array,
  na: number,
  b: Float32Array | Float64Array,
  nb: number,
  d: number,
  out: T,
): T {
  const same = a === b && na === nb;
  for (let i = 0; i < na; i++) {
    const ai = i * d;
    for (let j = same ? i : 0; j < nb; j++) {
      const bj = j * d;
      let dot = 0;
      for (let t = 0; t < d; t++) dot += a[ai + t] * b[bj + t];
      const k = dot / d + 1;
      out[i * nb + j] = k * k * k;
      if (same) out[j * nb + i] = k * k * k;
    }
  }
  return out;
}

/** Sum of K[x_i, y_j] over the index lists (skipping i == j when `offDiag`). */
function subsetSum(
  k: Float32Array | Float64Array,
  cols: number,
  x: Int32Array,
  y: Int32Array,
  offDiag: boolean,
) {
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const row = x[i] * cols;
    for (let j = 0; j < y.length; j++) {
      if (offDiag && i === j) continue;
      sum += k[row + y[j]];
    }
  }
  return sum;
}

/**
 * Unbiased MMD^2 of two sets of m vectors each (row-major, dimension d):
 * (sum_{i!=j} k(x_i,x_j) + sum_{i!=j} k(y_i,y_j)) / (m (m-1)) - 2 sum_{i,j} k(x_i,y_j) / m^2.
 * @example
 * unbiasedMmd2(new Float64Array([0, 1]), new Float64Array([1, 2]), 2, 1); // 1 + 27 - 18.5 = 9.5
 */
export function unbiasedMmd2(
  x: Float32Array | Float64Array,
  y: Float32Array | Float64Array,
  m: number,
  d: number,
): number {
  if (m < 2) throw new RangeError(`MMD^2 needs at least 2 vectors per set, got ${m}`);
  const all = Int32Array.from({ length: m }, (_, i) => i);
  const k = new Float64Array(m * m);
  const kxx = subsetSum(gram(x, m, x, m, d, k), m, all, all, true);
  const kyy = subsetSum(gram(y, m, y, m, d, k), m, all, all, true);
  const kxy = subsetSum(gram(x, m, y, m, d, k), m, all, all, false);
  return (kxx + kyy) / (m * (m - 1)) - (2 * kxy) / (m * m);
}

/** Gather rows into a contiguous block. */
function gather(set: FeatureSet, rows: Int32Array): Float64Array {
  const { d, data } = set;
  const out = new Float64Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) out.set(data.subarray(rows[i] * d, rows[i] * d + d), i * d);
  return out;
}

/** Default of {@link KidOptions.cacheLimit}. */
const MAX_CACHED_KERNEL_VALUES = 16 * 1024 * 1024;

/**
 * KID between two feature sets of the same dimension (each with at least 2 vectors).
 * @example
 * const { mean, std } = kernelDistance(realFeatures, generatedFeatures, { subsets: 100, seed: 0 });
 */
export function kernelDistance(a: FeatureSet, b: FeatureSet, options: KidOptions = {}): KidResult {
  checkFeatureSet(a, "first features");
  checkFeatureSet(b, "second features");
  if (a.d !== b.d) throw new RangeError(`feature dimensions differ: ${a.d} and ${b.d}`);
  const subsets = options.subsets ?? 100;
  if (!Number.isInteger(subsets) || subsets < 1) {
    throw new RangeError(`subsets must be a positive integer, got ${subsets}`);
  }
  const requested = options.subsetSize ?? 1000;
  if (!Number.isInteger(requested) || requested < 2) {
    throw new RangeError(`subsetSize must be an integer >= 2, got ${requested}`);
  }
  const m = Math.min(requested, a.n, b.n);
  if (m < 2) throw new RangeError(`KID needs at least 2 vectors in each set, got ${a.n}, ${b.n}`);
  const rng = new Rng(options.seed ?? 0);
  const values = new Float64Array(subsets);
  const d = a.d;
  // One element type for every kernel computation keeps the hot loops monomorphic.
  const a64 = { n: a.n, d, data: Float64Array.from(a.data) };
  const b64 = { n: b.n, d, data: Float64Array.from(b.data) };
  // Cache the whole-set Gram matrices that fit the budget, smallest first; the others are
  // computed per subset from the drawn rows.
  let budget = options.cacheLimit ?? MAX_CACHED_KERNEL_VALUES;
  const plan = [
    { key: "aa", size: a.n * a.n },
    { key: "ab", size: a.n * b.n },
    { key: "bb", size: b.n * b.n },
  ].sort((p, q) => p.size - q.size);
  const cache = new Map<string, Float32Array>();
  for (const { key, size } of plan) {
    if (size > budget) continue;
    budget -= size;
    const [u, v] = [key[0] === "a" ? a64 : b64, key[1] === "a" ? a64 : b64];
    cache.set(key, gram(u.data, u.n, v.data, v.n, d, new Float32Array(size)));
  }
  const scratch = cache.size < 3 ? new Float64Array(m * m) : null;
  const all = Int32Array.from({ length: m }, (_, i) => i);
  for (let s = 0; s < subsets; s++) {
    const xi = drawWithoutReplacement(a.n, m, rng);
    const yi = drawWithoutReplacement(b.n, m, rng);
    const x = cache.has("aa") && cache.has("ab") ? null : gather(a64, xi);
    const y = cache.has("bb") && cache.has("ab") ? null : gather(b64, yi);
    const kaa = cache.get("aa");
    const kbb = cache.get("bb");
    const kab = cache.get("ab");
    const kxx = kaa
      ? subsetSum(kaa, a.n, xi, xi, true)
      : subsetSum(gram(x!, m, x!, m, d, scratch!), m, all, all, true);
    const kyy = kbb
      ? subsetSum(kbb, b.n, yi, yi, true)
      : subsetSum(gram(y!, m, y!, m, d, scratch!), m, all, all, true);
    const kxy = kab
      ? subsetSum(kab, b.n, xi, yi, false)
      : subsetSum(gram(x!, m, y!, m, d, scratch!), m, all, all, false);
    values[s] = (kxx + kyy) / (m * (m - 1)) - (2 * kxy) / (m * m);
  }
  let mean = 0;
  for (const v of values) mean += v;
  mean /= subsets;
  let variance = 0;
  for (const v of values) variance += (v - mean) * (v - mean);
  return { mean, std: Math.sqrt(variance / subsets), subsets, subsetSize: m };
}
