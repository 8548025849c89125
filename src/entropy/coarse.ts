/**
 * Coarse-graining of codes: cluster the K codebook vectors into G groups (seeded k-means++), so
 * that the probes can count G-ary variables instead of K-ary ones. Fewer symbols mean far
 * smaller estimator bias at N ≈ 6000 samples; the price is that the coarse mutual information
 * is a lower bound on the fine one (data processing inequality).
 * @module
 */
import { kmeans } from "../deps.ts";

/** A code-to-cluster map. */
export interface CodeClusters {
  /** Cluster of every code, in [0, groups). */
  codeMap: Uint16Array;
  /** Number of non-empty clusters (clusters are renumbered densely). */
  groups: number;
}

/**
 * Cluster `vocabSize` codebook vectors (row-major [K, dim], e.g. the fixture's float32
 * [K, 2, 2, 3] patches flattened to dim = 12) into at most `groups` clusters with seeded
 * k-means++ (ml-kmeans). Same inputs and seed give the same map.
 * @example
 * const { codeMap } = codebookClusters(codebook, 1024, 12, 32, 0);
 */
export function codebookClusters(
  codebook: ArrayLike<number>,
  vocabSize: number,
  dim: number,
  groups: number,
  seed = 0,
): CodeClusters {
  if (!Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize > 65536) {
    throw new Error(`vocabSize must be an integer in 1..65536, got ${vocabSize}`);
  }
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`dim must be a positive integer`);
  if (codebook.length !== vocabSize * dim) {
    throw new Error(
      `codebook has ${codebook.length} values, expected vocabSize x dim = ${vocabSize} x ${dim}`,
    );
  }
  if (!Number.isInteger(groups) || groups < 1 || groups > vocabSize) {
    throw new Error(`groups must be an integer in 1..vocabSize (${vocabSize}), got ${groups}`);
  }
  const points = Array.from(
    { length: vocabSize },
    (_, k) => Array.from({ length: dim }, (_, d) => Number(codebook[k * dim + d])),
  );
  const { clusters } = kmeans(points, groups, { seed, initialization: "kmeans++" });
  // Renumber densely in order of first appearance so the alphabet has no empty symbols.
  const dense = new Map<number, number>();
  const codeMap = new Uint16Array(vocabSize);
  for (let k = 0; k < vocabSize; k++) {
    let g = dense.get(clusters[k]);
    if (g === undefined) dense.set(clusters[k], g = dense.size);
    codeMap[k] = g;
  }
  return { codeMap, groups: dense.size };
}
