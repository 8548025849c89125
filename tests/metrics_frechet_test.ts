/**
 * Fréchet distance against known answers: a 1-D case by hand, identical sets, closed forms for
 * diagonal and 2-D covariances, and sampled Gaussians with known parameters.
 */
import { assert, assertAlmostEquals, assertThrows } from "./assert.ts";
import { gaussianSet, uniformSet } from "./metrics_helpers.ts";
import {
  type FeatureSet,
  type FeatureStats,
  featureStats,
  frechetDistance,
  frechetFromStats,
} from "../src/metrics/mod.ts";

function stats(mean: number[], cov: number[][]): FeatureStats {
  const d = mean.length;
  return { n: 2, d, mean: Float64Array.from(mean), cov: Float64Array.from(cov.flat()) };
}

/** Closed form for 2x2: Tr sqrt(S1^1/2 S2 S1^1/2) = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)). */
function frechet2d(m1: number[], s1: number[][], m2: number[], s2: number[][]): number {
  const tr = (a: number[][]) => a[0][0] + a[1][1];
  const det = (a: number[][]) => a[0][0] * a[1][1] - a[0][1] * a[1][0];
  const trProd = s1[0][0] * s2[0][0] + s1[0][1] * s2[1][0] + s1[1][0] * s2[0][1] +
    s1[1][1] * s2[1][1];
  const traceRoot = Math.sqrt(trProd + 2 * Math.sqrt(det(s1) * det(s2)));
  const mean = (m1[0] - m2[0]) ** 2 + (m1[1] - m2[1]) ** 2;
  return mean + tr(s1) + tr(s2) - 2 * traceRoot;
}

Deno.test("featureStats: mean and unbiased covariance by hand", () => {
  const s = featureStats({ n: 3, d: 2, data: new Float64Array([1, 0, 2, 2, 3, 4]) });
  assertAlmostEquals(s.mean[0], 2, 1e-15);
  assertAlmostEquals(s.mean[1], 2, 1e-15);
  // x = [1,2,3] (var 1), y = [0,2,4] (var 4), cov(x, y) = 2
  assertAlmostEquals(s.cov[0], 1, 1e-15);
  assertAlmostEquals(s.cov[1], 2, 1e-15);
  assertAlmostEquals(s.cov[2], 2, 1e-15);
  assertAlmostEquals(s.cov[3], 4, 1e-15);
});

Deno.test("Fréchet 1-D by hand: {0,2} vs {1,3,5} = 4 + (sqrt 2 - 2)^2", () => {
  const a: FeatureSet = { n: 2, d: 1, data: new Float64Array([0, 2]) };
  const b: FeatureSet = { n: 3, d: 1, data: new Float32Array([1, 3, 5]) };
  // means 1 and 3, unbiased variances 2 and 4
  assertAlmostEquals(frechetDistance(a, b), 10 - 4 * Math.SQRT2, 1e-12);
  assertAlmostEquals(frechetDistance(b, a), 10 - 4 * Math.SQRT2, 1e-12);
});

Deno.test("Fréchet of a set with itself is ~0, also rank-deficient (n < d)", () => {
  const full = uniformSet(200, 16, 1);
  assertAlmostEquals(frechetDistance(full, full), 0, 1e-9);
  // 10 vectors in 32 dimensions: the covariance has rank 9, most eigenvalues are rounding noise
  const thin = uniformSet(10, 32, 2);
  const r = frechetFromStats(featureStats(thin), featureStats(thin));
  assert(r.clampedEigenvalues > 0, "expected clamped rounding-noise eigenvalues");
  assertAlmostEquals(r.distance, 0, 1e-6);
  assert(Number.isFinite(r.covarianceTerm));
});

Deno.test("Fréchet of diagonal covariances: |mu1-mu2|^2 + sum (sqrt a - sqrt b)^2", () => {
  const a = [1, 4, 0.25, 9, 2];
  const b = [2, 1, 1, 9, 0.5];
  const diag = (v: number[]) => v.map((x, i) => v.map((_, j) => (i === j ? x : 0)));
  const m1 = [0, 1, 2, 3, 4];
  const m2 = [1, 1, 0, 3, 4];
  let expected = 1 + 4;
  for (let i = 0; i < 5; i++) expected += (Math.sqrt(a[i]) - Math.sqrt(b[i])) ** 2;
  const r = frechetFromStats(stats(m1, diag(a)), stats(m2, diag(b)));
  assertAlmostEquals(r.distance, expected, 1e-12);
  assertAlmostEquals(r.meanTerm, 5, 1e-15);
});

Deno.test("Fréchet of non-commuting 2-D covariances matches the closed form", () => {
  const s1 = [[2, 0.8], [0.8, 1]];
  const s2 = [[0.5, -0.3], [-0.3, 3]];
  const m1 = [0.5, -1];
  const m2 = [0, 1];
  const expected = frechet2d(m1, s1, m2, s2);
  assertAlmostEquals(frechetFromStats(stats(m1, s1), stats(m2, s2)).distance, expected, 1e-12);
  assertAlmostEquals(frechetFromStats(stats(m2, s2), stats(m1, s1)).distance, expected, 1e-12);
  // A singular S1 (rank 1) still works: one eigenvalue is 0 up to rounding (~1e-16), and the
  // square root of that noise (~1e-8) limits the agreement to about sqrt(machine epsilon).
  const singular = [[1, 1], [1, 1]];
  assertAlmostEquals(
    frechetFromStats(stats(m1, singular), stats(m2, s2)).distance,
    frechet2d(m1, singular, m2, s2),
    1e-7,
  );
});

Deno.test("Fréchet of sampled Gaussians approaches the analytic value", () => {
  const s1 = [[2, 0.8], [0.8, 1]];
  const s2 = [[0.5, -0.3], [-0.3, 3]];
  const m1 = [0.5, -1];
  const m2 = [0, 1];
  const a = gaussianSet(20000, m1, s1, 11);
  const b = gaussianSet(20000, m2, s2, 12);
  const expected = frechet2d(m1, s1, m2, s2);
  const got = frechetDistance(a, b);
  assert(Math.abs(got - expected) < 0.03 * expected, `sampled ${got}, analytic ${expected}`);
  // Two samples of one Gaussian in 8-D: small (finite-sample bias only).
  const cov8 = Array.from(
    { length: 8 },
    (_, i) => Array.from({ length: 8 }, (_, j) => (i === j ? 1 : 0.3)),
  );
  const zero = new Array(8).fill(0);
  const same = frechetDistance(gaussianSet(5000, zero, cov8, 1), gaussianSet(5000, zero, cov8, 2));
  assert(same < 0.02, `same-distribution Fréchet ${same}`);
});

Deno.test("Fréchet: shifting one set by c adds |c|^2", () => {
  const a = uniformSet(300, 6, 5);
  const b = uniformSet(300, 6, 6);
  const shifted = { ...b, data: b.data.map((v, i) => v + (i % 6 === 2 ? 3 : 0)) };
  const base = frechetFromStats(featureStats(a), featureStats(b));
  const moved = frechetFromStats(featureStats(a), featureStats(shifted));
  assertAlmostEquals(moved.covarianceTerm, base.covarianceTerm, 1e-9);
  // |mu_a - mu_b - c|^2 = |mu_a - mu_b|^2 - 2 c.(mu_a - mu_b) + |c|^2
  const sa = featureStats(a);
  const sb = featureStats(b);
  const expected = base.meanTerm - 2 * 3 * (sa.mean[2] - sb.mean[2]) + 9;
  assertAlmostEquals(moved.meanTerm, expected, 1e-9);
});

Deno.test("Fréchet rejects bad input with messages that say what is wrong", () => {
  const a = uniformSet(5, 3, 1);
  assertThrows(() => frechetDistance(a, uniformSet(5, 4, 1)), RangeError, "dimensions differ");
  assertThrows(
    () => frechetDistance({ n: 1, d: 3, data: new Float64Array(3) }, a),
    RangeError,
    "at least 2",
  );
  assertThrows(
    () =>
      frechetDistance({ n: 2, d: 2, data: new Float64Array([0, 1, 1, NaN]) }, uniformSet(5, 2, 1)),
    RangeError,
    "row 1, column 1",
  );
  assertThrows(
    () => frechetDistance({ n: 2, d: 2, data: new Float64Array(3) }, a),
    RangeError,
    "expected n*d",
  );
  const notPsd = stats([0, 0], [[1, 0], [0, -1]]);
  assertThrows(
    () => frechetFromStats(notPsd, stats([0, 0], [[1, 0], [0, 1]])),
    RangeError,
    "not positive semi-definite",
  );
});
