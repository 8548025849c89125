/**
 * Coarse-graining of codes: cluster the K codebook vectors into G groups (the project's seeded,
 * bit-reproducible k-means++ / Lloyd from src/tokenizer), so
 * that the probes can count G-ary variables instead of K-ary ones. Fewer symbols mean far
 * smaller estimator bias at N ≈ 6000 samples; the price is that the coarse mutual information
 * is a lower bound on the fine one (data processing inequality).
 * @module
 */
import { EntropyInputError } from "./tokens.ts";
import { kmeans } from "../tokenizer/kmeans.ts";
import { NearestCodeIndex } from "../tokenizer/nearest.ts";

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
 * k-means (k-means++ start, at most `iterations` Lloyd steps, default 50). Same inputs and seed
 * give the same map on every machine.
 * @example
 * const { codeMap } = codebookClusters(codebook, 1024, 12, 32, 0);
 */
export function codebookClusters(
  codebook: ArrayLike<number>,
  vocabSize: number,
  dim: number,
  groups: number,
  seed = 0,
  iterations = 50,
): CodeClusters {
  if (!Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize > 65536) {
    throw new EntropyInputError(`vocabSize must be an integer in 1..65536, got ${vocabSize}`);
  }
  if (!Number.isInteger(dim) || dim < 1) {
    throw new EntropyInputError(`dim must be a positive integer`);
  }
  if (codebook.length !== vocabSize * dim) {
    throw new EntropyInputError(
      `codebook has ${codebook.length} values, expected vocabSize x dim = ${vocabSize} x ${dim}`,
    );
  }
  if (!Number.isInteger(groups) || groups < 1 || groups > vocabSize) {
    throw new EntropyInputError(
      `groups must be an integer in 1..vocabSize (${vocabSize}), got ${groups}`,
    );
  }
  const { centroids } = kmeans(codebook, dim, { k: groups, iterations, seed });
  const index = new NearestCodeIndex(centroids, dim);
  const clusters = Array.from({ length: vocabSize }, (_, k) => index.nearest(codebook, k * dim));
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
