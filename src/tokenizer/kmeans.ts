/**
 * Seeded, deterministic k-means (k-means++ initialisation, then Lloyd iterations) on short
 * vectors, used to learn patch codebooks. All sums run in a fixed sequential order, so the same
 * points and seed give bit-identical centroids on every machine.
 * @module
 */
import { Rng } from "../util/rng.ts";
import { NearestCodeIndex } from "./nearest.ts";

/** Settings for {@link kmeans}. */
export interface KMeansOptions {
  /** Number of centroids. */
  k: number;
  /** Maximum Lloyd iterations after initialisation (stops early when no point moves). */
  iterations: number;
  /** Seed of the k-means++ draws. */
  seed: number;
  /** Called after each iteration with its mean squared distance (per vector, not per value). */
  onIteration?: (iteration: number, meanSquaredDistance: number, moved: number) => void;
}

/** Result of {@link kmeans}. */
export interface KMeansResult {
  /** k * dim centroid values. */
  centroids: Float64Array;
  /** Mean squared distance of the points to their centroid after each iteration. */
  history: number[];
}

/**
 * Cluster `n = points.length / dim` vectors into `k` groups.
 * @example
 * const { centroids } = kmeans(patches, 12, { k: 1024, iterations: 20, seed: 1 });
 */
export function kmeans(
  points: ArrayLike<number>,
  dim: number,
  options: KMeansOptions,
): KMeansResult {
  const { k, iterations, seed } = options;
  const n = points.length / dim;
  if (!Number.isInteger(n) || n === 0) throw new RangeError("points must hold whole vectors");
  if (!Number.isInteger(k) || k <= 0) {
    throw new RangeError(`k must be a positive integer, got ${k}`);
  }
  const rng = new Rng(seed);
  const centroids = initPlusPlus(points, dim, n, k, rng);
  const assign = new Int32Array(n).fill(-1);
  const dist = new Float64Array(n);
  const history: number[] = [];
  for (let it = 0; it < iterations; it++) {
    const index = new NearestCodeIndex(centroids, dim);
    const sums = new Float64Array(k * dim);
    const counts = new Float64Array(k);
    let moved = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const j = index.nearest(points, i * dim);
      if (j !== assign[i]) moved++;
      assign[i] = j;
      dist[i] = index.lastDistance;
      total += dist[i];
      counts[j]++;
      for (let t = 0; t < dim; t++) sums[j * dim + t] += points[i * dim + t];
    }
    history.push(total / n);
    options.onIteration?.(it, total / n, moved);
    if (moved === 0) break;
    reseedEmpty(points, dim, centroids, counts, dist);
    for (let j = 0; j < k; j++) {
      if (counts[j] === 0) continue; // reseeded above
      for (let t = 0; t < dim; t++) centroids[j * dim + t] = sums[j * dim + t] / counts[j];
    }
  }
  return { centroids, history };
}

/** k-means++: each new centroid is a point drawn with probability proportional to D(x)^2. */
function initPlusPlus(
  points: ArrayLike<number>,
  dim: number,
  n: number,
  k: number,
  rng: Rng,
): Float64Array {
  const centroids = new Float64Array(k * dim);
  const d2 = new Float64Array(n).fill(Infinity);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < dim; t++) s += points[i * dim + t] * points[i * dim + t];
    norms[i] = Math.sqrt(s);
  }
  let pick = rng.int(n);
  for (let c = 0; c < k; c++) {
    for (let t = 0; t < dim; t++) centroids[c * dim + t] = points[pick * dim + t];
    // Update D^2; the norm gap lower-bounds the distance and skips most points cheaply.
    const nc = norms[pick];
    const base = c * dim;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const gap = norms[i] - nc;
      if (gap * gap < d2[i]) {
        let d = 0;
        for (let t = 0; t < dim; t++) {
          const diff = points[i * dim + t] - centroids[base + t];
          d += diff * diff;
        }
        if (d < d2[i]) d2[i] = d;
      }
      total += d2[i];
    }
    if (c + 1 === k) break;
    if (total === 0) {
      // Fewer distinct points than k: fill up with uniform draws (duplicates stay empty and
      // get reseeded, or simply duplicate, which is harmless).
      pick = rng.int(n);
      continue;
    }
    const r = rng.next() * total;
    let acc = 0;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      acc += d2[i];
      if (acc > r) {
        pick = i;
        break;
      }
    }
  }
  return centroids;
}

/**
 * Give every empty cluster the point currently farthest from its centroid (largest distance
 * first, lowest index on ties). The point's old cluster keeps it in this update's mean; the next
 * assignment step sorts that out.
 */
function reseedEmpty(
  points: ArrayLike<number>,
  dim: number,
  centroids: Float64Array,
  counts: Float64Array,
  dist: Float64Array,
): void {
  const empty: number[] = [];
  for (let j = 0; j < counts.length; j++) if (counts[j] === 0) empty.push(j);
  if (empty.length === 0) return;
  const order = Array.from({ length: dist.length }, (_, i) => i);
  order.sort((a, b) => dist[b] - dist[a] || a - b);
  for (let e = 0; e < empty.length && e < order.length; e++) {
    const i = order[e];
    if (dist[i] === 0) break; // every point already sits on a centroid
    const j = empty[e];
    for (let t = 0; t < dim; t++) centroids[j * dim + t] = points[i * dim + t];
    dist[i] = 0;
  }
}
