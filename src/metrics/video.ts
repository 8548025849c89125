/**
 * Quality of sampled video clips (token clips [n, F, H, W], frame-major): the clip classifier's
 * Fréchet distance and class accuracy against real clips, how often a cell keeps its token into
 * the next frame (temporal token consistency), and the neighbour-pair divergence across time
 * beside the spatial ones.
 *
 * Why these: parallel video decoding samples cells of several frames in one step, each from its
 * own marginal. What it risks is temporal coherence: a cell flickering between codes from frame to
 * frame, or a motion the frames do not agree on. The consistency share sees flicker directly (real
 * clips keep most background and much of the sprite from frame to frame), the JS divergence of
 * (token at (f, r, c), token at (f + 1, r, c)) pairs sees wrong transitions even when the share
 * is right, and the clip classifier, trained to tell the motion types apart, sees whether the
 * motion as a whole is still recognisable.
 * @module
 */
import { framesOf, type TokenGridsLike } from "../media/batches.ts";
import type { Tokenizer } from "../tokenizer/types.ts";
import {
  evaluateSamples,
  type MetricsReference,
  prepareReference,
  type ReferenceOptions,
  type SampleMetrics,
} from "./evaluate.ts";
import type { KidOptions } from "./kid.ts";
import { type FeatureLoadOptions, ImageFeatureExtractor } from "./image_features.ts";
import { sameOffset, TEMPORAL } from "./token_pairs.ts";

/** Manifest of the committed clip classifier, addressed relative to this module. */
export const CLIP_CLASSIFIER_URL = new URL(
  "../../fixtures/classifier/clip-cnn.json",
  import.meta.url,
);

/**
 * Load the committed clip classifier (fixtures/classifier/clip-cnn.onnx + .json): a small conv net
 * over 5-frame 24x24 clips trained by python/classifier/train_clips.py; its features give the
 * clip Fréchet distance, its logits the motion class (slide, bounce, zoom, spin).
 * @example
 * const cnn = await loadClipClassifier();
 * cnn.manifest.input.frames; // 5
 */
export function loadClipClassifier(
  options: FeatureLoadOptions = {},
): Promise<ImageFeatureExtractor> {
  return ImageFeatureExtractor.load(CLIP_CLASSIFIER_URL, options);
}

/** Result of {@link temporalConsistency}. */
export interface TemporalConsistency {
  /** Share of cells (f, r, c), f < F - 1, whose token equals the token at (f + 1, r, c). */
  share: number;
  /** The same share for each frame transition f -> f + 1 (F - 1 values). */
  perTransition: number[];
  /** Cells compared: n * (F - 1) * H * W. */
  cells: number;
}

function checkClips(clips: TokenGridsLike, name: string): number {
  const frames = framesOf(clips);
  const { n, height, width, tokens } = clips;
  for (const [k, v] of [["n", n], ["height", height], ["width", width]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`${name}: ${k} must be a positive integer, got ${v}`);
    }
  }
  if (!Number.isInteger(frames) || frames < 2) {
    throw new RangeError(
      `${name}: frames is ${frames}; temporal measures need clips of at least 2 frames. ` +
        "Fix: pass token clips with their frames",
    );
  }
  if (tokens.length !== n * frames * height * width) {
    throw new RangeError(
      `${name}: tokens has ${tokens.length} entries, expected n*frames*height*width = ${
        n * frames * height * width
      }`,
    );
  }
  return frames;
}

/**
 * Temporal token consistency: the share of cells whose token equals the same cell's token in the
 * next frame, overall and per frame transition. 1 for clips whose frames are all identical.
 * @example
 * const t = temporalConsistency({ n: 1, frames: 2, height: 1, width: 2, tokens: [3, 4, 3, 5] });
 * t.share; // 0.5
 */
export function temporalConsistency(clips: TokenGridsLike): TemporalConsistency {
  const frames = checkClips(clips, "clips");
  const { n, height, width, tokens } = clips;
  const plane = height * width;
  const same = new Float64Array(frames - 1);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < frames - 1; f++) {
      const base = (i * frames + f) * plane;
      let k = 0;
      for (let p = 0; p < plane; p++) if (tokens[base + p] === tokens[base + plane + p]) k++;
      same[f] += k;
    }
  }
  const total = same.reduce((a, x) => a + x, 0);
  return {
    share: total / (n * (frames - 1) * plane),
    perTransition: Array.from(same, (x) => x / (n * plane)),
    cells: n * (frames - 1) * plane,
  };
}

/** The real side of {@link evaluateClips}: a metrics reference counting temporal pairs too. */
export interface ClipReference extends MetricsReference {
  /** Frames per clip. */
  frames: number;
  /** Temporal token consistency of the real clips. */
  temporal: TemporalConsistency;
}

/**
 * Decode real token clips, run the clip classifier, count spatial and temporal pairs and the
 * temporal consistency: the reusable real side of {@link evaluateClips}.
 * @example
 * const ref = await prepareClipReference(trainClips, tokenizer, await loadClipClassifier());
 */
export async function prepareClipReference(
  real: TokenGridsLike,
  tokenizer: Tokenizer,
  classifier: ImageFeatureExtractor,
  options: ReferenceOptions = {},
): Promise<ClipReference> {
  const frames = checkClips(real, "real clips");
  const extra = (options.extraOffsets ?? []).filter((o) => !sameOffset(o, TEMPORAL));
  const ref = await prepareReference(real, tokenizer, classifier, {
    ...options,
    // TEMPORAL right after horizontal and vertical, so pairs[2] is always the temporal one.
    extraOffsets: [TEMPORAL, ...extra],
  });
  return { ...ref, frames, temporal: temporalConsistency(real) };
}

/** Inputs of {@link evaluateClips}. */
export interface EvaluateClipInputs {
  /** Generated token clips (at least 2). */
  generated: TokenGridsLike;
  /** The class each clip was conditioned on. */
  labels: ArrayLike<number>;
  /** The real side, from {@link prepareClipReference}. */
  real: ClipReference;
  /** Decodes clips to pictures, frame by frame. */
  tokenizer: Tokenizer;
  /** The clip classifier (features and logits of whole clips). */
  classifier: ImageFeatureExtractor;
  /** KID subsets (default 100 subsets of up to 1000, seed 0). */
  kid?: KidOptions;
  /** Batch size of the classifier runs. */
  run?: ReferenceOptions["run"];
}

/** Result of {@link evaluateClips}. */
export interface ClipMetrics extends SampleMetrics {
  /** Temporal token consistency of the generated clips and of the reference's real clips. */
  temporalConsistency: { generated: TemporalConsistency; real: TemporalConsistency };
  /** JS divergence (bits) of (token at (f, r, c), token at (f + 1, r, c)) pairs. */
  temporalJS: number;
}

/**
 * Score generated token clips against real ones: clip Fréchet distance, KID and class accuracy
 * through the clip classifier, spatial and temporal pair divergences, temporal consistency.
 * @example
 * const ref = await prepareClipReference(trainClips, tokenizer, cnn); // once
 * const m = await evaluateClips({ generated, labels, real: ref, tokenizer, classifier: cnn });
 * console.log(m.frechet, m.classAccuracy, m.temporalJS, m.temporalConsistency.generated.share);
 */
export async function evaluateClips(inputs: EvaluateClipInputs): Promise<ClipMetrics> {
  const { generated, real } = inputs;
  const frames = checkClips(generated, "generated clips");
  if (frames !== real.frames) {
    throw new RangeError(
      `generated clips have ${frames} frames but the reference ${real.frames}. ` +
        "Fix: compare clips of the same length",
    );
  }
  const temporalPairs = real.pairs.find((h) => sameOffset(h.offset, TEMPORAL));
  if (!temporalPairs) {
    throw new RangeError(
      "the reference has no temporal pair histogram. Fix: make it with prepareClipReference",
    );
  }
  const m = await evaluateSamples({
    generated,
    labels: inputs.labels,
    real,
    tokenizer: inputs.tokenizer,
    classifier: inputs.classifier,
    kid: inputs.kid,
    run: inputs.run,
  });
  const temporal = m.pairJS.perOffset.find((o) => sameOffset(o, TEMPORAL))!;
  return {
    ...m,
    temporalConsistency: { generated: temporalConsistency(generated), real: real.temporal },
    temporalJS: temporal.js,
  };
}
