/**
 * Shared helpers of the metrics tests: seeded Gaussian samples with a chosen mean and covariance.
 * @module
 */
import { Rng } from "../src/util/rng.ts";
import type { FeatureSet } from "../src/metrics/mod.ts";

/** A standard normal draw (Box–Muller) from a seeded generator. */
export function normal(rng: Rng): number {
  const u = 1 - rng.next(); // (0, 1]
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** Lower-triangular Cholesky factor of a symmetric positive definite d x d matrix. */
export function cholesky(a: number[][]): number[][] {
  const d = a.length;
  const l = a.map(() => new Array(d).fill(0));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i][j];
      for (let k = 0; k < j; k++) s -= l[i][k] * l[j][k];
      l[i][j] = i === j ? Math.sqrt(s) : s / l[j][j];
    }
  }
  return l;
}

/** n samples of N(mean, cov) as a feature set. */
export function gaussianSet(n: number, mean: number[], cov: number[][], seed: number): FeatureSet {
  const d = mean.length;
  const l = cholesky(cov);
  const rng = new Rng(seed);
  const data = new Float64Array(n * d);
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) z[j] = normal(rng);
    for (let j = 0; j < d; j++) {
      let v = mean[j];
      for (let k = 0; k <= j; k++) v += l[j][k] * z[k];
      data[i * d + j] = v;
    }
  }
  return { n, d, data };
}

/** Uniform random features in [0, 1) (n x d). */
export function uniformSet(n: number, d: number, seed: number): FeatureSet {
  return { n, d, data: new Rng(seed).uniforms(n * d) };
}
