/**
 * Coarse-graining of codes for the entropy probes: the codebook clustering of
 * {@link ../tokenizer/clusters.ts} with the probes' settings (50 Lloyd iterations), so that they
 * count G-ary variables instead of K-ary ones. Fewer symbols mean far smaller estimator bias at
 * N ≈ 6000 samples; the price is that the coarse mutual information is a lower bound on the fine
 * one (data processing inequality).
 * @module
 */
import { EntropyInputError } from "./tokens.ts";
import { clusterCodebook, type CodebookClusters } from "../tokenizer/clusters.ts";

/** A code-to-cluster map (ids dense by first appearance; see `clusterCodebook`). */
export type CodeClusters = CodebookClusters;

/**
 * Cluster the `vocabSize` codebook vectors of a token set's tokenizer (row-major [K, dim], e.g.
 * the fixture's float32 [K, 2, 2, 3] patches flattened to dim = 12) into at most `groups`
 * clusters: `clusterCodebook` with `iterations` Lloyd steps (default 50, the setting behind the
 * README's coarse entropy maps). Same inputs and seed give the same map on every machine.
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
  if (codebook.length !== vocabSize * dim) {
    throw new EntropyInputError(
      `codebook has ${codebook.length} values, expected vocabSize x dim = ${vocabSize} x ${dim}`,
    );
  }
  try {
    return clusterCodebook(codebook, dim, { groups, iterations, seed });
  } catch (err) {
    // Bad sizes are the caller's input: one line naming the field (see EntropyInputError).
    if (err instanceof RangeError) throw new EntropyInputError(err.message);
    throw err;
  }
}
