/**
 * One call for the quality of generated token grids against real ones: Fréchet and kernel
 * distances of classifier features of the decoded pictures, class consistency, and the
 * neighbour-pair divergence of the tokens themselves.
 * @module
 */
import type { TokenGridsLike } from "../media/batches.ts";
import type { Tokenizer } from "../tokenizer/types.ts";
import { type FeatureSet, type FeatureStats, featureStats } from "./features.ts";
import { frechetFromStats } from "./frechet.ts";
import { kernelDistance, type KidOptions, type KidResult } from "./kid.ts";
import {
  HORIZONTAL,
  type PairDivergence,
  type PairHistogram,
  pairHistogram,
  type PairOffset,
  tokenPairDivergence,
  VERTICAL,
} from "./token_pairs.ts";
import {
  consistencyFromLogits,
  type FeatureRunOptions,
  type ImageFeatureExtractor,
} from "./image_features.ts";

/** Real-data side of the comparison, computed once and reused across many evaluations. */
export interface MetricsReference {
  /** Number of real grids. */
  n: number;
  /** Classifier features of the decoded real grids. */
  features: FeatureSet;
  /** Their mean and covariance. */
  stats: FeatureStats;
  /** Pair histograms of the real grids at each offset (horizontal, vertical, extras). */
  pairs: PairHistogram[];
  /** Number of codes K of the real grids. */
  vocabSize: number;
  /** Coarse-graining the histograms used (undefined: none). */
  codeMap?: ArrayLike<number>;
}

/** Settings shared by {@link prepareReference} and {@link evaluateSamples}. */
export interface ReferenceOptions {
  /** Coarse-graining of codes for the pair histograms (see `coarseCodeMap`). */
  codeMap?: ArrayLike<number>;
  /** Offsets counted beyond horizontal and vertical (e.g. {dy: 1, dx: 1}). */
  extraOffsets?: PairOffset[];
  /** Batch size of the classifier runs. */
  run?: FeatureRunOptions;
}

/**
 * Decode real token grids, run the classifier, and count pairs: the reusable real side.
 * @example
 * const ref = await prepareReference(valGrids, tokenizer, classifier);
 */
export async function prepareReference(
  real: TokenGridsLike,
  tokenizer: Tokenizer,
  classifier: ImageFeatureExtractor,
  options: ReferenceOptions = {},
): Promise<MetricsReference> {
  if (real.n < 2) throw new RangeError(`real grids: need at least 2, got ${real.n}`);
  const pictures = await tokenizer.decode(real);
  const features = await classifier.features(pictures, options.run);
  const offsets = [HORIZONTAL, VERTICAL, ...(options.extraOffsets ?? [])];
  const pairOptions = { vocabSize: tokenizer.vocabSize, codeMap: options.codeMap };
  return {
    n: real.n,
    features,
    stats: featureStats(features),
    pairs: offsets.map((o) => pairHistogram(real, o, pairOptions)),
    vocabSize: tokenizer.vocabSize,
    codeMap: options.codeMap,
  };
}

/** Inputs of {@link evaluateSamples}. */
export interface EvaluateInputs extends ReferenceOptions {
  /** Generated token grids (at least 2). */
  generated: TokenGridsLike;
  /** The class each generated grid was conditioned on (one per grid). */
  labels: ArrayLike<number>;
  /** Real grids (e.g. the val split), or a reference from {@link prepareReference}. */
  real: TokenGridsLike | MetricsReference;
  /** Decodes grids to pictures (the one the real tokens were made with). */
  tokenizer: Tokenizer;
  /** Feature model with a logits output (e.g. the committed emoji CNN). */
  classifier: ImageFeatureExtractor;
  /** KID subsets (default 100 subsets of up to 1000, seed 0). */
  kid?: KidOptions;
}

/** Result of {@link evaluateSamples}. */
export interface SampleMetrics {
  /** Number of generated grids. */
  n: number;
  /** Fréchet distance of classifier features, generated vs real. */
  frechet: number;
  /** Kernel distance (KID) of the same features: mean and std over subsets. */
  kid: KidResult;
  /** Fraction of generated pictures the classifier assigns to their conditioning class. */
  classAccuracy: number;
  /** Mean of per-class accuracies over the classes present in `labels`. */
  classBalancedAccuracy: number;
  /** Jensen–Shannon divergence (bits) of neighbour-pair distributions (+ per offset). */
  pairJS: PairDivergence;
}

function isReference(real: TokenGridsLike | MetricsReference): real is MetricsReference {
  return (real as MetricsReference).stats !== undefined;
}

/**
 * Score generated token grids against real ones.
 * @example
 * const ref = await prepareReference(val, tokenizer, classifier); // once
 * const m = await evaluateSamples({ generated, labels, real: ref, tokenizer, classifier });
 * console.log(m.frechet, m.kid.mean, m.classAccuracy, m.pairJS.horizontal, m.pairJS.vertical);
 */
export async function evaluateSamples(inputs: EvaluateInputs): Promise<SampleMetrics> {
  const { generated, labels, tokenizer, classifier } = inputs;
  if (generated.n < 2) throw new RangeError(`generated grids: need at least 2, got ${generated.n}`);
  if (labels.length !== generated.n) {
    throw new RangeError(`labels has ${labels.length} entries for ${generated.n} generated grids`);
  }
  const ref = isReference(inputs.real)
    ? inputs.real
    : await prepareReference(inputs.real, tokenizer, classifier, inputs);
  if (isReference(inputs.real) && (inputs.codeMap || inputs.extraOffsets)) {
    throw new RangeError(
      "codeMap/extraOffsets belong to prepareReference when a prepared reference is passed",
    );
  }
  if (ref.vocabSize !== tokenizer.vocabSize) {
    throw new RangeError(
      `the reference has K = ${ref.vocabSize} codes but the tokenizer ${tokenizer.vocabSize}`,
    );
  }
  const pictures = await tokenizer.decode(generated);
  const out = await classifier.run(pictures, inputs.run);
  if (!out.logits) {
    throw new RangeError(
      `${classifier.manifest.name} has no logits output; evaluateSamples needs a classifier`,
    );
  }
  const consistency = consistencyFromLogits(out.logits, labels);
  const frechet = frechetFromStats(featureStats(out.features), ref.stats).distance;
  const kid = kernelDistance(out.features, ref.features, inputs.kid);
  const pairJS = tokenPairDivergence(generated, ref.pairs, {
    vocabSize: tokenizer.vocabSize,
    codeMap: ref.codeMap,
    extraOffsets: ref.pairs.slice(2).map((h) => h.offset),
  });
  return {
    n: generated.n,
    frechet,
    kid,
    classAccuracy: consistency.accuracy,
    classBalancedAccuracy: consistency.balancedAccuracy,
    pairJS,
  };
}
