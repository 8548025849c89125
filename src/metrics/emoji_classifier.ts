/**
 * The committed emoji classifier (fixtures/classifier/emoji-cnn.onnx + .json): a small CNN trained
 * by python/classifier/ on the 48x48 emoji pictures and their token reconstructions. Its 128-d
 * penultimate features give the "emoji Fréchet distance"; its logits give class consistency.
 * @module
 */
import { type FeatureLoadOptions, ImageFeatureExtractor } from "./image_features.ts";

/** Manifest of the committed emoji classifier, addressed relative to this module. */
export const EMOJI_CLASSIFIER_URL = new URL(
  "../../fixtures/classifier/emoji-cnn.json",
  import.meta.url,
);

/**
 * Load the committed emoji classifier.
 * @example
 * const cnn = await loadEmojiClassifier();
 * cnn.classNames; // the 9 emoji categories, as in fixtures/emoji/manifest.json
 */
export function loadEmojiClassifier(
  options: FeatureLoadOptions = {},
): Promise<ImageFeatureExtractor> {
  return ImageFeatureExtractor.load(EMOJI_CLASSIFIER_URL, options);
}
