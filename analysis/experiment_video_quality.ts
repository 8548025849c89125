/**
 * Quality scoring of the video rows: the clip metrics of `evaluateClips` (src/metrics/video.ts)
 * against a class-balanced reference of real train clips, rounded for the records.
 * @module
 */
import {
  CLIP_CLASSIFIER_URL,
  type ClipReference,
  evaluateClips,
  type ImageFeatureExtractor,
  loadClipClassifier,
  type PatchKMeansTokenizer,
  prepareClipReference,
} from "./deps.ts";
import type { VideoDataset } from "../src/data/video_fixture.ts";
import { balancedRows } from "./experiments.ts";

/** Quality numbers of one set of clips (rounded). */
export interface ClipQuality {
  /** Clips scored. */
  n: number;
  /** Fréchet distance of clip-classifier features against the reference (lower is better). */
  frechet: number;
  /** KID mean and std over subsets. */
  kid: { mean: number; std: number };
  /** Fraction the clip classifier assigns to their conditioning motion class. */
  classAccuracy: number;
  /** Mean per-class accuracy. */
  classBalancedAccuracy: number;
  /** JS divergence (bits) of neighbour pairs: right, below, same cell in the next frame. */
  pairJS: { horizontal: number; vertical: number; temporal: number };
  /** Share of cells that keep their token into the next frame. */
  temporalConsistency: number;
}

/** What scoring needs, loaded once per run. */
export interface ScoringSetup {
  /** Decodes the clips (the data's codebook). */
  tokenizer: PatchKMeansTokenizer;
  /** The clip classifier. */
  classifier: ImageFeatureExtractor;
  /** The real side. */
  reference: ClipReference;
  /** Which real clips the reference holds. */
  label: string;
  /** The classifier's name and recorded val accuracies. */
  classifierInfo: { name: string; valAccuracyReal?: number; valAccuracyRecon?: number };
}

const r4 = (x: number) => Number(x.toPrecision(6));

/**
 * Load the clip classifier and prepare the reference (class-balanced train clips), or null with
 * a logged note when the classifier is not there.
 */
export async function loadClipScoring(
  data: { train: VideoDataset; tokenizer: PatchKMeansTokenizer },
  s: { referencePerClass: number; seed: number },
  log: (line: string) => void,
): Promise<ScoringSetup | null> {
  try {
    await Deno.stat(CLIP_CLASSIFIER_URL);
  } catch {
    log(`  video: no clip classifier (${CLIP_CLASSIFIER_URL.pathname}); clips are not scored`);
    return null;
  }
  const classifier = await loadClipClassifier();
  try {
    const { train } = data;
    // Class-balanced like the samples, so no configuration pays for the class mix.
    const rows = balancedRows(train.labels, train.classNames.length, s.referencePerClass, s.seed);
    const cells = train.frames * train.height * train.width;
    const tokens = new Uint16Array(rows.length * cells);
    rows.forEach((r, i) =>
      tokens.set(train.tokens.subarray(r * cells, (r + 1) * cells), i * cells)
    );
    const clips = {
      n: rows.length,
      frames: train.frames,
      height: train.height,
      width: train.width,
      tokens,
    };
    const reference = await prepareClipReference(clips, data.tokenizer, classifier);
    const metrics = classifier.manifest.metrics as
      | { valAccuracyReal?: number; valAccuracyRecon?: number }
      | undefined;
    return {
      tokenizer: data.tokenizer,
      classifier,
      reference,
      label: `${rows.length} train clips, up to ${s.referencePerClass} per class (seed ${s.seed})`,
      classifierInfo: {
        name: classifier.manifest.name,
        valAccuracyReal: metrics?.valAccuracyReal,
        valAccuracyRecon: metrics?.valAccuracyRecon,
      },
    };
  } catch (err) {
    await classifier.release();
    throw err;
  }
}

/** Score token clips against the reference. */
export async function scoreClips(
  setup: ScoringSetup,
  clips: { n: number; frames: number; height: number; width: number; tokens: Uint16Array },
  labels: ArrayLike<number>,
  s: { kidSubsets: number; seed: number },
): Promise<ClipQuality> {
  const m = await evaluateClips({
    generated: clips,
    labels,
    real: setup.reference,
    tokenizer: setup.tokenizer,
    classifier: setup.classifier,
    kid: { subsets: s.kidSubsets, subsetSize: 1000, seed: s.seed },
  });
  return {
    n: m.n,
    frechet: r4(m.frechet),
    kid: { mean: r4(m.kid.mean), std: r4(m.kid.std) },
    classAccuracy: r4(m.classAccuracy),
    classBalancedAccuracy: r4(m.classBalancedAccuracy),
    pairJS: {
      horizontal: r4(m.pairJS.horizontal),
      vertical: r4(m.pairJS.vertical),
      temporal: r4(m.temporalJS),
    },
    temporalConsistency: r4(m.temporalConsistency.generated.share),
  };
}
