/**
 * Improved precision and recall (Kynkäänniemi et al. 2019) as ADM's evaluator computes them: each
 * set's manifold is the union of balls around its feature vectors, each ball's radius the
 * distance to the vector's k-th nearest neighbour in its own set (k = 3); precision is the share
 * of generated vectors inside the real manifold, recall the share of real vectors inside the
 * generated one. Exact pairwise distances: O(n^2 d), so shard large sets.
 * @module
 */
import { checkFeatureSet, type FeatureSet } from "./features.ts";

/** Precision and recall of generated features against real ones. */
export interface PrecisionRecall {
  /** Share of generated vectors inside the real manifold. */
  precision: number;
  /** Share of real vectors inside the generated manifold. */
  recall: number;
}

function squaredNorms(s: FeatureSet): Float64Array {
  const out = new Float64Array(s.n);
  for (let i = 0; i < s.n; i++) {
    let v = 0;
    for (let j = 0; j < s.d; j++) v += s.data[i * s.d + j] ** 2;
    out[i] = v;
  }
  return out;
}

/** Squared distance between row i of a and row j of b. */
function dist2(
  a: FeatureSet,
  an: Float64Array,
  i: number,
  b: FeatureSet,
  bn: Float64Array,
  j: number,
) {
  let dot = 0;
  const d = a.d;
  for (let t = 0; t < d; t++) dot += a.data[i * d + t] * b.data[j * d + t];
  return Math.max(0, an[i] + bn[j] - 2 * dot);
}

/** Squared radius of every vector's ball: its squared distance to its k-th nearest neighbour. */
export function manifoldRadii(set: FeatureSet, k = 3): Float64Array {
  checkFeatureSet(set);
  if (!Number.isInteger(k) || k < 1 || k >= set.n) {
    throw new RangeError(`k: ${k} must be an integer in [1, n - 1 = ${set.n - 1}]`);
  }
  const norms = squaredNorms(set);
  const radii = new Float64Array(set.n);
  const row = new Float64Array(set.n);
  for (let i = 0; i < set.n; i++) {
    for (let j = 0; j < set.n; j++) row[j] = dist2(set, norms, i, set, norms, j);
    // The k-th smallest distance counting the vector itself (distance 0) at position 0, as ADM.
    radii[i] = row.slice().sort()[k];
  }
  return radii;
}

/** Share of `query` vectors inside the manifold of `ref` (balls of squared radii `radii`). */
function coverage(ref: FeatureSet, radii: Float64Array, query: FeatureSet): number {
  const rn = squaredNorms(ref);
  const qn = squaredNorms(query);
  let inside = 0;
  for (let i = 0; i < query.n; i++) {
    for (let j = 0; j < ref.n; j++) {
      if (dist2(query, qn, i, ref, rn, j) <= radii[j]) {
        inside++;
        break;
      }
    }
  }
  return inside / query.n;
}

/**
 * Precision and recall of `generated` against `real` (k-NN manifolds, k = 3 by default).
 * @example
 * const { precision, recall } = precisionRecall(realFeatures, sampleFeatures);
 */
export function precisionRecall(
  real: FeatureSet,
  generated: FeatureSet,
  options: { k?: number } = {},
): PrecisionRecall {
  checkFeatureSet(real, "real features");
  checkFeatureSet(generated, "generated features");
  if (real.d !== generated.d) {
    throw new RangeError(`feature dimensions differ: ${real.d} and ${generated.d}`);
  }
  const k = options.k ?? 3;
  return {
    precision: coverage(real, manifoldRadii(real, k), generated),
    recall: coverage(generated, manifoldRadii(generated, k), real),
  };
}
