/**
 * Quality scoring of the speed/quality experiments: the metrics of `evaluateSamples` against a
 * prepared real reference, a bootstrap spread of the Fréchet distance, and the share of white
 * background cells.
 * @module
 */
import {
  evaluateSamples,
  featureStats,
  frechetFromStats,
  type ImageFeatureExtractor,
  type MetricsReference,
  Rng,
  type SampleMetrics,
  type Tokenizer,
} from "./deps.ts";
import type { ExperimentSettings, QualityNumbers } from "./experiment_types.ts";

/** What scoring needs: the tokenizer, the classifier and the prepared real reference. */
export interface ScoringContext {
  /** Decodes token grids to pictures. */
  tokenizer: Tokenizer;
  /** The emoji classifier (features and logits). */
  classifier: ImageFeatureExtractor;
  /** The real side, prepared once. */
  reference: MetricsReference;
}

const r4 = (x: number) => Number(x.toPrecision(6));

function qualityNumbers(m: SampleMetrics, frechetStd: number): QualityNumbers {
  return {
    n: m.n,
    frechet: r4(m.frechet),
    frechetStd: r4(frechetStd),
    kid: { mean: r4(m.kid.mean), std: r4(m.kid.std) },
    classAccuracy: r4(m.classAccuracy),
    classBalancedAccuracy: r4(m.classBalancedAccuracy),
    pairJS: { horizontal: r4(m.pairJS.horizontal), vertical: r4(m.pairJS.vertical) },
  };
}

/** Score token grids against the reference: metrics plus the Fréchet bootstrap std. */
export async function score(
  ctx: ScoringContext,
  grids: { n: number; height: number; width: number; tokens: ArrayLike<number> },
  labels: ArrayLike<number>,
  s: ExperimentSettings,
): Promise<QualityNumbers> {
  const generated = { ...grids, tokens: Uint16Array.from(grids.tokens) };
  const m = await evaluateSamples({
    generated,
    labels,
    real: ctx.reference,
    tokenizer: ctx.tokenizer,
    classifier: ctx.classifier,
    kid: { subsets: s.kidSubsets, subsetSize: 1000, seed: s.seed },
  });
  return qualityNumbers(m, await bootstrapFrechetStd(ctx, generated, s));
}

/**
 * Spread of the Fréchet distance from the finite sample: resample the generated pictures' features
 * with replacement `s.bootstrap` times (seeded) and take the std of the distances. Tells which
 * differences between configurations are larger than the sampling noise.
 */
async function bootstrapFrechetStd(
  ctx: ScoringContext,
  generated: { n: number; height: number; width: number; tokens: Uint16Array },
  s: ExperimentSettings,
): Promise<number> {
  if (s.bootstrap < 2) return 0;
  const features = await ctx.classifier.features(await ctx.tokenizer.decode(generated));
  const { n, d } = features;
  const rng = new Rng(s.seed + 17);
  const values: number[] = [];
  const data = new Float64Array(n * d);
  for (let b = 0; b < s.bootstrap; b++) {
    for (let i = 0; i < n; i++) {
      const r = rng.int(n);
      data.set(features.data.subarray(r * d, (r + 1) * d), i * d);
    }
    values.push(frechetFromStats(featureStats({ n, d, data }), ctx.reference.stats).distance);
  }
  const mean = values.reduce((a, x) => a + x, 0) / values.length;
  return Math.sqrt(values.reduce((a, x) => a + (x - mean) ** 2, 0) / (values.length - 1));
}

/**
 * Codes whose every pixel is near white (all channels above 245): the emoji background. On
 * weak models the share of such cells explains much of the feature distance, so it is reported.
 */
export function whiteCodes(codebook: ArrayLike<number>, valuesPerCode: number): Set<number> {
  const out = new Set<number>();
  for (let k = 0; k * valuesPerCode < codebook.length; k++) {
    let min = Infinity;
    for (let i = 0; i < valuesPerCode; i++) min = Math.min(min, codebook[k * valuesPerCode + i]);
    if (min > 245) out.add(k);
  }
  return out;
}

/** Fraction of token ids in `tokens` that are in `codes`. */
export function codeFraction(tokens: ArrayLike<number>, codes: Set<number>): number {
  let n = 0;
  for (let i = 0; i < tokens.length; i++) if (codes.has(tokens[i])) n++;
  return tokens.length ? n / tokens.length : NaN;
}
