/**
 * Fréchet distance between two feature sets, each modelled as a Gaussian (the quantity behind
 * FID):
 *
 *   FD = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2)
 *
 * Computed with two symmetric eigendecompositions (ml-matrix's `EigenvalueDecomposition`):
 * S1 = V diag(l) V^T gives S1^1/2 = V diag(sqrt l) V^T, and
 * B = diag(sqrt l) V^T S2 V diag(sqrt l) is similar to S1^1/2 S2 S1^1/2 (conjugated by V), so
 * Tr((S1^1/2 S2 S1^1/2)^1/2) = sum_i sqrt(eig_i(B)). Both matrices are symmetric positive
 * semi-definite in exact arithmetic; rounding makes the eigenvalues of rank-deficient ones (fewer
 * vectors than dimensions, or constant features) come out as tiny negatives like -1e-15, whose
 * square root would be NaN. Those are clamped to 0 and counted in the result. A clearly negative
 * eigenvalue (below -1e-6 times the largest magnitude) means the input is not a covariance and is
 * an error, never a silent clamp.
 * @module
 */
import { EigenvalueDecomposition, Matrix } from "../deps/matrix.ts";
import { type FeatureSet, type FeatureStats, featureStats } from "./features.ts";

/** Relative size below which a negative eigenvalue counts as rounding noise (then clamped). */
export const EIGENVALUE_CLAMP_TOLERANCE = 1e-6;

/** The Fréchet distance and its parts. */
export interface FrechetResult {
  /** The distance, clamped at 0 (rounding can leave -1e-12 for identical inputs). */
  distance: number;
  /** ||mu1 - mu2||^2. */
  meanTerm: number;
  /** Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2), before clamping. */
  covarianceTerm: number;
  /** Number of tiny negative eigenvalues set to 0 (of S1 and of B). */
  clampedEigenvalues: number;
}

function symmetricEigenvalues(m: Matrix, what: string): { values: number[]; vectors: Matrix } {
  const evd = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  for (const v of values) {
    if (!Number.isFinite(v)) throw new RangeError(`${what}: eigenvalue ${v} is not finite`);
  }
  return { values, vectors: evd.eigenvectorMatrix };
}

/** Clamp tiny negatives to 0, throw on clearly negative ones; returns the clamp count. */
function clampNegative(values: number[], what: string): number {
  let largest = 0;
  for (const v of values) largest = Math.max(largest, Math.abs(v));
  const floor = -EIGENVALUE_CLAMP_TOLERANCE * Math.max(largest, Number.MIN_VALUE);
  let clamped = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < 0) {
      if (values[i] < floor) {
        throw new RangeError(
          `${what} has eigenvalue ${values[i].toExponential(3)} (largest magnitude ${
            largest.toExponential(3)
          }): ` +
            `not positive semi-definite; pass a covariance matrix`,
        );
      }
      values[i] = 0;
      clamped++;
    }
  }
  return clamped;
}

function checkStats(s: FeatureStats, name: string): void {
  if (s.mean.length !== s.d || s.cov.length !== s.d * s.d) {
    throw new RangeError(
      `${name}: mean has ${s.mean.length} and cov ${s.cov.length} values; expected d=${s.d} and d*d`,
    );
  }
}

/**
 * Fréchet distance between two Gaussians given by their statistics, with its parts.
 * @example
 * const r = frechetFromStats(featureStats(real), featureStats(generated));
 * console.log(r.distance, r.meanTerm, r.covarianceTerm);
 */
export function frechetFromStats(s1: FeatureStats, s2: FeatureStats): FrechetResult {
  checkStats(s1, "first statistics");
  checkStats(s2, "second statistics");
  if (s1.d !== s2.d) {
    throw new RangeError(`feature dimensions differ: ${s1.d} and ${s2.d}`);
  }
  const d = s1.d;
  let meanTerm = 0;
  for (let j = 0; j < d; j++) {
    const diff = s1.mean[j] - s2.mean[j];
    meanTerm += diff * diff;
  }
  let trace1 = 0;
  let trace2 = 0;
  for (let j = 0; j < d; j++) {
    trace1 += s1.cov[j * d + j];
    trace2 += s2.cov[j * d + j];
  }

  const c1 = Matrix.from1DArray(d, d, s1.cov);
  const c2 = Matrix.from1DArray(d, d, s2.cov);
  const first = symmetricEigenvalues(c1, "first covariance");
  let clamped = clampNegative(first.values, "first covariance");
  // B = D V^T S2 V D with D = diag(sqrt l): same eigenvalues as S1^1/2 S2 S1^1/2.
  const v = first.vectors;
  const b = v.transpose().mmul(c2).mmul(v);
  const root = first.values.map(Math.sqrt);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) b.set(i, j, b.get(i, j) * root[i] * root[j]);
  }
  // Symmetrise away the rounding asymmetry of the products before the symmetric solver.
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const m = 0.5 * (b.get(i, j) + b.get(j, i));
      b.set(i, j, m);
      b.set(j, i, m);
    }
  }
  const second = symmetricEigenvalues(b, "S1^1/2 S2 S1^1/2");
  clamped += clampNegative(second.values, "S1^1/2 S2 S1^1/2");
  let traceRoot = 0;
  for (const x of second.values) traceRoot += Math.sqrt(x);

  const covarianceTerm = trace1 + trace2 - 2 * traceRoot;
  return {
    distance: Math.max(0, meanTerm + covarianceTerm),
    meanTerm,
    covarianceTerm,
    clampedEigenvalues: clamped,
  };
}

/**
 * Fréchet distance between two feature sets (rows are vectors; each needs at least 2 rows).
 * @example
 * const fd = frechetDistance(
 *   { n: 2, d: 1, data: new Float64Array([0, 2]) },
 *   { n: 3, d: 1, data: new Float64Array([1, 3, 5]) },
 * ); // 4 + (sqrt(2) - 2)^2 = 10 - 4 sqrt(2)
 */
export function frechetDistance(a: FeatureSet, b: FeatureSet): number {
  return frechetFromStats(featureStats(a), featureStats(b)).distance;
}
