/**
 * Feature sets (n vectors of d numbers, row-major) and their first two moments, the inputs of the
 * Fréchet and kernel distances.
 * @module
 */

/** Rows per block of the covariance accumulation (see {@link featureStats}). */
const BLOCK_ROWS = 64;

/** n feature vectors of dimension d: row i is `data[i * d .. (i + 1) * d)`. */
export interface FeatureSet {
  /** Number of vectors (rows). */
  n: number;
  /** Dimension of each vector (columns). */
  d: number;
  /** n * d values, row-major. */
  data: Float32Array | Float64Array;
}

/** Mean and covariance of a feature set, as used by the Fréchet distance. */
export interface FeatureStats {
  /** Number of vectors the statistics came from. */
  n: number;
  /** Dimension. */
  d: number;
  /** Mean vector (d values). */
  mean: Float64Array;
  /** Unbiased covariance (divided by n - 1), d * d values, row-major and symmetric. */
  cov: Float64Array;
}

/**
 * Check that a feature set is well formed (positive integer sizes, n * d finite values) and
 * return it; `name` appears in the error.
 */
export function checkFeatureSet(set: FeatureSet, name = "features"): FeatureSet {
  const { n, d, data } = set;
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(d) || d < 1) {
    throw new RangeError(`${name}: n and d must be positive integers, got n=${n}, d=${d}`);
  }
  if (data.length !== n * d) {
    throw new RangeError(`${name}: data has ${data.length} values, expected n*d = ${n * d}`);
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new RangeError(
        `${name}: value ${data[i]} at row ${Math.floor(i / d)}, column ${i % d} is not finite`,
      );
    }
  }
  return set;
}

/**
 * Mean and unbiased covariance (divided by n - 1, like `numpy.cov`) of a feature set, in float64.
 * Needs at least two vectors.
 * @example
 * const stats = featureStats({ n: 3, d: 1, data: new Float64Array([1, 2, 3]) });
 * stats.mean[0]; // 2
 * stats.cov[0]; // 1
 */
export function featureStats(set: FeatureSet): FeatureStats {
  const { n, d, data } = checkFeatureSet(set);
  if (n < 2) throw new RangeError(`features: a covariance needs at least 2 vectors, got ${n}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) mean[j] += data[row + j];
  }
  for (let j = 0; j < d; j++) mean[j] /= n;
  // Accumulate the upper triangle of the centred scatter matrix over blocks of rows: the block
  // is stored column-major (feature-major), so each (a, b) entry sums a contiguous run of
  // products, and the d x d accumulator is swept once per block instead of once per row (for
  // d = 2048 it is 32 MiB, far beyond the caches).
  const cov = new Float64Array(d * d);
  const block = Math.min(BLOCK_ROWS, n);
  const centred = new Float64Array(d * block);
  for (let start = 0; start < n; start += block) {
    const rows = Math.min(block, n - start);
    for (let k = 0; k < rows; k++) {
      const row = (start + k) * d;
      for (let j = 0; j < d; j++) centred[j * block + k] = data[row + j] - mean[j];
    }
    for (let a = 0; a < d; a++) {
      const ca = a * block;
      const base = a * d;
      for (let b = a; b < d; b++) {
        const cb = b * block;
        let sum = 0;
        for (let k = 0; k < rows; k++) sum += centred[ca + k] * centred[cb + k];
        cov[base + b] += sum;
      }
    }
  }
  const scale = 1 / (n - 1);
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b] * scale;
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }
  return { n, d, mean, cov };
}
