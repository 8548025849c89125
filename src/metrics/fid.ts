/**
 * FID, sFID, Inception Score and precision/recall of a picture set against reference statistics,
 * as ADM's evaluator computes them, from any feature model whose manifest names pool features,
 * logits and (optionally) spatial features: the FID Inception of `python/inception` gives ADM's
 * numbers. Features are gathered batch by batch into mergeable moments (no 50,000 x 2048 matrix is
 * needed for FID); the rows are kept only where a score needs them (precision/recall, IS, and the
 * exact low-rank Fréchet path for sets smaller than the feature dimension).
 * @module
 */
import { EigenvalueDecomposition, Matrix } from "../deps/matrix.ts";
import type { FeatureSet, FeatureStats } from "./features.ts";
import { EIGENVALUE_CLAMP_TOLERANCE, frechetFromStats, type FrechetResult } from "./frechet.ts";
import type { FeatureRunOptions, ImageFeatureExtractor } from "./image_features.ts";
import {
  emptyMoments,
  type FeatureMoments,
  mergeMoments,
  momentsOf,
  statsFromMoments,
} from "./moments.ts";
import type { PictureSource } from "./fid_sources.ts";

/** Features of a picture set, as {@link collectFidFeatures} gathers them. */
export interface FidFeatures {
  /** Number of pictures. */
  n: number;
  /** Moments of the pool features (FID). */
  pool: FeatureMoments;
  /** Moments of the spatial features (sFID), or null when the model has no spatial output. */
  spatial: FeatureMoments | null;
  /** Every pool row, when kept (precision/recall, or n <= d for the exact low-rank FID). */
  poolRows: FeatureSet | null;
  /** Every spatial row, when n <= d (exact low-rank sFID). */
  spatialRows: FeatureSet | null;
  /** Every logit row (IS), when the model has logits and they were asked for. */
  logits: FeatureSet | null;
  /** Seconds spent in the feature model (decoding and reading included). */
  seconds: number;
}

/** Options of {@link collectFidFeatures}. */
export interface CollectOptions extends FeatureRunOptions {
  /** Keep every pool row (for precision/recall). Default false. */
  keepPool?: boolean;
  /** Keep the logits (for IS). Default true. */
  keepLogits?: boolean;
  /** Called after every batch with the number of pictures done. */
  onProgress?: (done: number) => void;
}

function rowsBuffer(n: number, d: number): FeatureSet {
  return { n, d, data: new Float32Array(n * d) };
}

/**
 * Run every picture of `source` through `extractor` and gather the moments (and the rows the
 * scores need). `batchSize` pictures per batch (default 32).
 * @example
 * const f = await collectFidFeatures(inception, await npzPictures("samples.npz"));
 */
export async function collectFidFeatures(
  extractor: ImageFeatureExtractor,
  source: PictureSource,
  options: CollectOptions = {},
): Promise<FidFeatures> {
  const t0 = performance.now();
  const batch = options.batchSize ?? 32;
  const n = source.n;
  let pool = emptyMoments(extractor.featureDim);
  let spatial: FeatureMoments | null = null;
  const keepPoolRows = options.keepPool || n <= extractor.featureDim;
  const poolRows = keepPoolRows ? rowsBuffer(n, extractor.featureDim) : null;
  let spatialRows: FeatureSet | null = null;
  let logits: FeatureSet | null = null;
  let done = 0;
  for await (const images of source.batches(batch)) {
    const out = await extractor.run(images, { batchSize: batch });
    pool = mergeMoments(pool, momentsOf(out.features));
    poolRows?.data.set(out.features.data, done * out.features.d);
    if (out.spatial) {
      const d = out.spatial.d;
      spatial = mergeMoments(spatial ?? emptyMoments(d), momentsOf(out.spatial));
      if (done === 0 && n <= d) spatialRows = rowsBuffer(n, d);
      spatialRows?.data.set(out.spatial.data, done * d);
    }
    if (out.logits && options.keepLogits !== false) {
      logits ??= rowsBuffer(n, out.logits.d);
      logits.data.set(out.logits.data, done * out.logits.d);
    }
    done += images.n;
    options.onProgress?.(done);
  }
  if (done !== n) throw new RangeError(`the source promised ${n} pictures and gave ${done}`);
  return {
    n,
    pool,
    spatial,
    poolRows,
    spatialRows,
    logits,
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * Fréchet distance between a reference Gaussian and a set of n vectors with n - 1 < d, exactly and
 * in O(n d^2): the set's covariance is Y^T Y (Y the centred rows over sqrt(n - 1)), and the
 * non-zero eigenvalues of S_ref^1/2 Y^T Y S_ref^1/2 are those of the n x n matrix Y S_ref Y^T, so
 * Tr((S_ref^1/2 S S_ref^1/2)^1/2) = sum sqrt(eig(Y S_ref Y^T)) without a d x d decomposition.
 * @example
 * frechetLowRank(refStats, rows).distance;
 */
export function frechetLowRank(ref: FeatureStats, rows: FeatureSet): FrechetResult {
  const { n, d, data } = rows;
  if (ref.d !== d) throw new RangeError(`feature dimensions differ: ${ref.d} and ${d}`);
  if (n < 2) throw new RangeError(`a covariance needs at least 2 vectors, got ${n}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const scale = 1 / Math.sqrt(n - 1);
  const y = new Float64Array(n * d);
  let trace2 = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = (data[i * d + j] - mean[j]) * scale;
      y[i * d + j] = v;
      trace2 += v * v;
    }
  }
  let meanTerm = 0;
  let trace1 = 0;
  for (let j = 0; j < d; j++) {
    meanTerm += (mean[j] - ref.mean[j]) ** 2;
    trace1 += ref.cov[j * d + j];
  }
  // T = Y S_ref (n x d), then M = T Y^T (n x n).
  const t = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const row = t.subarray(i * d, (i + 1) * d);
    for (let j = 0; j < d; j++) {
      const v = y[i * d + j];
      if (v === 0) continue;
      const s = ref.cov.subarray(j * d, (j + 1) * d);
      for (let k = 0; k < d; k++) row[k] += v * s[k];
    }
  }
  const m = new Matrix(n, n);
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      let v = 0;
      for (let k = 0; k < d; k++) v += t[a * d + k] * y[b * d + k];
      m.set(a, b, v);
      m.set(b, a, v);
    }
  }
  // Symmetrise T Y^T's rounding: (Y S Y^T)_ab and _ba are equal in exact arithmetic.
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const v = (m.get(a, b) + m.get(b, a)) / 2;
      m.set(a, b, v);
      m.set(b, a, v);
    }
  }
  const values = new EigenvalueDecomposition(m, { assumeSymmetric: true }).realEigenvalues;
  let largest = 0;
  for (const v of values) largest = Math.max(largest, Math.abs(v));
  let clamped = 0;
  let root = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) throw new RangeError(`eigenvalue ${v} is not finite`);
    if (v < 0) {
      if (v < -EIGENVALUE_CLAMP_TOLERANCE * Math.max(largest, Number.MIN_VALUE)) {
        throw new RangeError(
          `Y S Y^T has eigenvalue ${v.toExponential(3)}: the reference covariance is not ` +
            "positive semi-definite",
        );
      }
      clamped++;
    } else root += Math.sqrt(v);
  }
  const covarianceTerm = trace1 + trace2 - 2 * root;
  return {
    distance: Math.max(0, meanTerm + covarianceTerm),
    meanTerm,
    covarianceTerm,
    clampedEigenvalues: clamped,
  };
}

/**
 * Fréchet distance of a gathered feature set to reference statistics: the exact low-rank path
 * when the set has fewer vectors than dimensions (and its rows were kept), else the full one.
 */
export function frechetToReference(
  ref: FeatureStats,
  moments: FeatureMoments,
  rows: FeatureSet | null,
): FrechetResult {
  if (ref.d !== moments.d) {
    throw new RangeError(`feature dimensions differ: reference ${ref.d}, samples ${moments.d}`);
  }
  if (rows && rows.n - 1 < rows.d) return frechetLowRank(ref, rows);
  return frechetFromStats(statsFromMoments(moments), ref);
}
