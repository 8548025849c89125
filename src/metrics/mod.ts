/**
 * Quality metrics for generated pictures and token grids: Fréchet and kernel (KID) distances of
 * feature sets, features and class consistency from any ONNX image model (with the committed
 * emoji classifier), neighbour token-pair divergence, and {@link evaluateSamples} that runs them
 * all; for video clips the clip classifier, temporal consistency and {@link evaluateClips}.
 * @module
 */
export { checkFeatureSet, type FeatureSet, type FeatureStats, featureStats } from "./features.ts";
export { frechetDistance, frechetFromStats, type FrechetResult } from "./frechet.ts";
export { kernelDistance, type KidOptions, type KidResult, unbiasedMmd2 } from "./kid.ts";
export {
  coarseCodeMap,
  HORIZONTAL,
  jensenShannonBits,
  type OffsetDivergence,
  type PairDivergence,
  type PairHistogram,
  pairHistogram,
  type PairOffset,
  type PairOptions,
  sameOffset,
  TEMPORAL,
  tokenPairDivergence,
  VERTICAL,
} from "./token_pairs.ts";
export {
  type FeatureManifest,
  FeatureManifestSchema,
  parseFeatureManifest,
} from "./feature_manifest.ts";
export {
  type ClassConsistency,
  consistencyFromLogits,
  type FeatureLoadOptions,
  type FeatureOutput,
  type FeatureRunOptions,
  ImageFeatureExtractor,
} from "./image_features.ts";
export { EMOJI_CLASSIFIER_URL, loadEmojiClassifier } from "./emoji_classifier.ts";
export {
  type EvaluateInputs,
  evaluateSamples,
  type MetricsReference,
  prepareReference,
  type ReferenceOptions,
  type SampleMetrics,
} from "./evaluate.ts";
export {
  emptyMoments,
  type FeatureMoments,
  mergeMoments,
  momentsOf,
  statsFromMoments,
} from "./moments.ts";
export {
  CLIP_CLASSIFIER_URL,
  type ClipMetrics,
  type ClipReference,
  type EvaluateClipInputs,
  evaluateClips,
  loadClipClassifier,
  prepareClipReference,
  type TemporalConsistency,
  temporalConsistency,
} from "./video.ts";
export { inceptionScore, type InceptionScoreResult } from "./inception_score.ts";
export { manifoldRadii, type PrecisionRecall, precisionRecall } from "./precision_recall.ts";
export { encodeReferenceStats, loadReferenceStats, type ReferenceStats } from "./reference.ts";
export {
  collectFidFeatures,
  type CollectOptions,
  type FidFeatures,
  frechetLowRank,
  frechetToReference,
} from "./fid.ts";
export { folderPictures, npzPictures, type PictureSource, tokenPictures } from "./fid_sources.ts";
