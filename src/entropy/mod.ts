/**
 * Entropy probes: how strongly token positions depend on each other. Model-free estimates from
 * token data (marginal and conditional entropy, mutual information for one reference or all
 * pairs, three estimators, optional coarse-graining), aggregates by offset, distance and class,
 * the dependency cost of a schedule, and the model-based entropy increase map.
 * @module
 */
export { type DistanceMean, meanByDistance, meanByOffset, type OffsetMean } from "./aggregate.ts";
export { type AllPairsOptions, allPairsStats, type ProgressCallback } from "./all_pairs.ts";
export { type ClassDependency, dependencyByClass } from "./classes.ts";
export { codebookClusters, type CodeClusters } from "./coarse.ts";
export {
  conditionalEntropyMatrix,
  conditionalEntropyRow,
  type DependencyOptions,
  MI_ESTIMATORS,
  type MiEstimator,
  mutualInformationMatrix,
  mutualInformationRow,
  type PairwiseDependency,
  pairwiseDependency,
  type ReferenceDependencies,
  type ReferenceDependency,
  referenceDependency,
} from "./dependency.ts";
export {
  type EntropyEstimator,
  entropyOfCodes,
  type HistogramStats,
  histogramStats,
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
