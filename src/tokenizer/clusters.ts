/**
 * Codebook clustering: the one place that groups the K codebook vectors of a tokenizer into
 * G ≪ K clusters of similar codes (seeded k-means++ / Lloyd from {@link ./kmeans.ts}, then every
 * code to its nearest centroid). Coarse-grained codes are what the entropy probes count when K is
 * too large for N samples, and what the token-pair divergence compares when pair histograms of a
 * few hundred grids would be too sparse.
 *
 * Numbering: clusters are renumbered densely in order of first appearance over the codes
 * 0, 1, ..., K−1. Code 0 is always in cluster 0, the next code not in cluster 0 opens cluster 1,
 * and so on; every id in [0, groups) holds at least one code (a centroid that no code is nearest
 * to gets no id). The ids thus depend on the partition alone, not on the order in which k-means
 * happened to draw its centroids.
 *
 * The number of Lloyd iterations is explicit because results depend on it and callers pin
 * numbers: the entropy probes use 50 (`codebookClusters`), the token-pair divergence 30
 * (`coarseCodeMap`).
 * @module
 */
import { kmeans } from "./kmeans.ts";
import { NearestCodeIndex } from "./nearest.ts";

/** Settings of {@link clusterCodebook}; all explicit, since each changes the map. */
export interface CodebookClusterOptions {
  /** Number of k-means centroids G, an integer in 1..K. */
  groups: number;
  /**
   * Maximum Lloyd iterations after the k-means++ start (stops early once no code moves). The
   * entropy probes use 50, the token-pair divergence 30.
   */
  iterations: number;
  /** Seed of the k-means++ draws. */
  seed: number;
}

/** Result of {@link clusterCodebook}. */
export interface CodebookClusters {
  /**
   * Cluster id of every code (length K), dense and in order of first appearance: code 0 is in
   * cluster 0, the first code outside it opens cluster 1, and so on.
   */
  codeMap: Uint16Array;
  /** Number of clusters in use: every id in [0, groups) holds a code; at most the G asked for. */
  groups: number;
}

/**
 * Cluster the K = codebook.length / dim codebook vectors (row-major [K, dim], e.g. 2x2 RGB
 * patches flattened to dim = 12) into at most `groups` clusters: seeded k-means, then each code
 * to its nearest centroid (squared Euclidean distance, lowest centroid on ties). Cluster ids are
 * then renumbered densely in order of first appearance over the codes 0..K−1, so they depend on
 * the partition alone and no id is empty (a centroid that no code is nearest to gets none). The
 * same inputs give the same map on every machine.
 * @example
 * const { codeMap, groups } = clusterCodebook(tokenizer.codebook, 12, {
 *   groups: 32,
 *   iterations: 50,
 *   seed: 0,
 * });
 */
export function clusterCodebook(
  codebook: ArrayLike<number>,
  dim: number,
  options: CodebookClusterOptions,
): CodebookClusters {
  const { groups, iterations, seed } = options;
  if (!Number.isInteger(dim) || dim < 1) {
    throw new RangeError(`dim must be a positive integer, got ${dim}`);
  }
  const k = codebook.length / dim;
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`codebook length ${codebook.length} is not a multiple of dim ${dim}`);
  }
  if (k > 65536) throw new RangeError(`K = ${k} codes do not fit a uint16 code map`);
  if (!Number.isInteger(groups) || groups < 1 || groups > k) {
    throw new RangeError(`groups must be an integer in 1..K (${k}), got ${groups}`);
  }
  if (!Number.isInteger(iterations) || iterations < 0) {
    throw new RangeError(`iterations must be a non-negative integer, got ${iterations}`);
  }
  const { centroids } = kmeans(codebook, dim, { k: groups, iterations, seed });
  const index = new NearestCodeIndex(centroids, dim);
  const dense = new Int32Array(groups).fill(-1);
  const codeMap = new Uint16Array(k);
  let used = 0;
  for (let c = 0; c < k; c++) {
    const g = index.nearest(codebook, c * dim);
    if (dense[g] < 0) dense[g] = used++;
    codeMap[c] = dense[g];
  }
  return { codeMap, groups: used };
}
