/**
 * Mergeable feature moments: the count, mean and centred scatter matrix of a feature set, kept so
 * that shards computed on different machines join exactly (Chan et al.'s pairwise update), and
 * turn into the mean and covariance the Fréchet distance takes. Sampling 50,000 pictures in 100
 * shards and merging their moments gives the statistics of the whole set, to rounding.
 * @module
 */
import { checkFeatureSet, type FeatureSet, type FeatureStats } from "./features.ts";

/** Count, mean and centred scatter (sum of (x - mean)(x - mean)^T) of d-dimensional features. */
export interface FeatureMoments {
  /** Number of vectors. */
  n: number;
  /** Dimension. */
  d: number;
  /** Mean vector (d values). */
  mean: Float64Array;
  /** Centred scatter matrix, d * d values, row-major and symmetric. */
  scatter: Float64Array;
}

/** Empty moments of dimension d (the identity of {@link mergeMoments}). */
export function emptyMoments(d: number): FeatureMoments {
  return { n: 0, d, mean: new Float64Array(d), scatter: new Float64Array(d * d) };
}

/**
 * The moments of a feature set.
 * @example
 * const m = momentsOf({ n: 3, d: 1, data: new Float64Array([1, 2, 3]) }); // mean 2, scatter 2
 */
export function momentsOf(set: FeatureSet): FeatureMoments {
  const { n, d, data } = checkFeatureSet(set);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const scatter = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) centred[j] = data[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ca = centred[a];
      if (ca === 0) continue;
      const row = a * d;
      for (let b = a; b < d; b++) scatter[row + b] += ca * centred[b];
    }
  }
  symmetrise(scatter, d);
  return { n, d, mean, scatter };
}

/**
 * Join the moments of two disjoint sets: exact, in any order and grouping (up to rounding).
 * @example
 * const all = mergeMoments(momentsOf(shard0), momentsOf(shard1));
 */
export function mergeMoments(a: FeatureMoments, b: FeatureMoments): FeatureMoments {
  if (a.d !== b.d) throw new RangeError(`moments of dimension ${a.d} and ${b.d} cannot merge`);
  if (a.n === 0) return cloneMoments(b);
  if (b.n === 0) return cloneMoments(a);
  const d = a.d;
  const n = a.n + b.n;
  const delta = new Float64Array(d);
  const mean = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    delta[j] = b.mean[j] - a.mean[j];
    mean[j] = a.mean[j] + delta[j] * (b.n / n);
  }
  const w = (a.n * b.n) / n;
  const scatter = new Float64Array(d * d);
  for (let x = 0; x < d; x++) {
    for (let y = 0; y < d; y++) {
      const k = x * d + y;
      scatter[k] = a.scatter[k] + b.scatter[k] + delta[x] * delta[y] * w;
    }
  }
  return { n, d, mean, scatter };
}

/** Mean and unbiased covariance (divided by n - 1) from moments of at least 2 vectors. */
export function statsFromMoments(m: FeatureMoments): FeatureStats {
  if (m.n < 2) throw new RangeError(`a covariance needs at least 2 vectors, got ${m.n}`);
  const cov = m.scatter.map((v) => v / (m.n - 1));
  return { n: m.n, d: m.d, mean: Float64Array.from(m.mean), cov };
}

function cloneMoments(m: FeatureMoments): FeatureMoments {
  return { n: m.n, d: m.d, mean: Float64Array.from(m.mean), scatter: Float64Array.from(m.scatter) };
}

function symmetrise(s: Float64Array, d: number): void {
  for (let a = 0; a < d; a++) for (let b = a + 1; b < d; b++) s[b * d + a] = s[a * d + b];
}
