/**
 * Entropy probes: how strongly token positions depend on each other, so that a schedule can put
 * weakly dependent cells in the same parallel step. All quantities are in bits.
 *
 * The pieces, in the order an analysis uses them:
 *
 * - **Token sets** ({@link TokenSet}, {@link validateTokenSet}): N token grids of one grid shape
 *   with optional class labels; bad input throws {@link EntropyInputError}, whose message names
 *   the field and the fix.
 * - **Estimators** ({@link ESTIMATORS}, {@link MI_ESTIMATORS}): one table entry per estimator
 *   (plug-in, Miller–Madow, plug-in minus a shuffled-columns baseline), each saying how histogram
 *   statistics (N, Σ n log2 n, support) become entropy and mutual information, and its bias
 *   correction. Adding an estimator is adding an entry. {@link entropyOfCodes},
 *   {@link pluginEntropy} and {@link millerMadowEntropy} work on single variables.
 * - **Dependency** ({@link referenceDependency}, {@link pairwiseDependency}): marginal entropy,
 *   mutual information and conditional entropy against a few reference cells or for all
 *   C(C−1)/2 pairs (the pair engine counts joint histograms without K x K tables, on Deno workers;
 *   see {@link AllPairsOptions}). Both use one mutual-information routine, so they agree. Read the
 *   results with {@link mutualInformationMatrix}, {@link mutualInformationRow},
 *   {@link conditionalEntropyRow} and {@link conditionalEntropyMatrix}.
 * - **Coarse-graining** ({@link codebookClusters}): cluster the codebook (the tokenizer's
 *   `clusterCodebook`) and pass the `codeMap` as an option, trading a lower bound for far smaller
 *   bias.
 * - **Aggregates**: {@link meanByOffset}, {@link meanByDistance}, and {@link dependencyByClass} (the
 *   all-pairs analysis per class label).
 * - **Schedules** ({@link scheduleCost}): the within-step dependency a schedule ignores, the sum of
 *   pairwise MI over cells decoded in the same step.
 * - **Model-based** ({@link entropyIncrease}, {@link fromTeacherForcing}): how much a parallel
 *   schedule raises the model's per-cell entropy or NLL over a sequential one.
 * - **Synthetic checks** ({@link combField}): a Markov field with an analytic conditional entropy,
 *   for testing estimators.
 * @example
 * import { conditionalEntropyRow, pairwiseDependency } from "parlab/entropy";
 * const dep = await pairwiseDependency(tokens, { workers: 2, progress: true });
 * const h = conditionalEntropyRow(dep, 300, "shuffle"); // H(X_j | X_300) for every cell j
 * @module
 */
export { type DistanceMean, meanByDistance, meanByOffset, type OffsetMean } from "./aggregate.ts";
export type { AllPairsOptions, ProgressCallback } from "./all_pairs.ts";
export { type ClassDependency, dependencyByClass } from "./classes.ts";
export { codebookClusters, type CodeClusters } from "./coarse.ts";
export {
  conditionalEntropyMatrix,
  conditionalEntropyRow,
  type DependencyOptions,
  mutualInformationMatrix,
  mutualInformationRow,
  type PairwiseDependency,
  pairwiseDependency,
  type PairwiseShard,
  pairwiseShard,
  type ReferenceDependencies,
  type ReferenceDependency,
  referenceDependency,
} from "./dependency.ts";
export {
  type EntropyEstimator,
  entropyOfCodes,
  ESTIMATORS,
  type EstimatorSpec,
  type HistogramStats,
  histogramStats,
  MI_ESTIMATORS,
  type MiEstimator,
  millerMadowEntropy,
  pluginEntropy,
} from "./estimators.ts";
export {
  type CellEntropyResult,
  type CellQuantity,
  type EntropyIncrease,
  entropyIncrease,
  fromTeacherForcing,
  meanPerCell,
} from "./increase.ts";
export { type ScheduleCost, scheduleCost, type StepsLike } from "./schedule_cost.ts";
export {
  combField,
  combFieldConditionalEntropy,
  type CombFieldOptions,
  symmetricChannelEntropy,
} from "./synthetic.ts";
export { EntropyInputError, type TokenSet, validateTokenSet } from "./tokens.ts";
