/**
 * Metrics costs: Fréchet distance on 2048 feature vectors (the emoji CNN's 128-d features, and
 * 512-d for a larger model), its statistics alone, KID, the token-pair divergence on the val
 * split, and the emoji classifier's features.
 */
import {
  featureStats,
  frechetDistance,
  frechetFromStats,
  kernelDistance,
  loadEmojiClassifier,
  tokenPairDivergence,
} from "../src/metrics/mod.ts";
import { loadEmojiDataset, loadPatchTokenizer } from "../src/data/mod.ts";
import { Rng } from "../src/util/rng.ts";

function features(n: number, d: number, seed: number) {
  const rng = new Rng(seed);
  // correlated features: a random low-rank mix plus noise, like a network's activations
  const data = new Float32Array(n * d);
  const basis = rng.uniforms(16 * d);
  for (let i = 0; i < n; i++) {
    const z = rng.uniforms(16);
    for (let j = 0; j < d; j++) {
      let v = 0.1 * rng.next();
      for (let k = 0; k < 16; k++) v += z[k] * basis[k * d + j];
      data[i * d + j] = v;
    }
  }
  return { n, d, data };
}

const a128 = features(2048, 128, 1);
const b128 = features(2048, 128, 2);
const a512 = features(2048, 512, 3);
const b512 = features(2048, 512, 4);
const s512a = featureStats(a512);
const s512b = featureStats(b512);

Deno.bench("Fréchet, 2048 x 128-d vs 2048 x 128-d", { group: "frechet", baseline: true }, () => {
  frechetDistance(a128, b128);
});
Deno.bench("Fréchet, 2048 x 512-d vs 2048 x 512-d", { group: "frechet", n: 5, warmup: 1 }, () => {
  frechetDistance(a512, b512);
});
Deno.bench("Fréchet from stats only, 512-d", { group: "frechet", n: 5, warmup: 1 }, () => {
  frechetFromStats(s512a, s512b);
});
Deno.bench("mean + covariance, 2048 x 512-d", { group: "frechet", n: 5, warmup: 1 }, () => {
  featureStats(a512);
});
Deno.bench("KID, 2048 x 128-d, 100 subsets of 1000", { n: 3, warmup: 1 }, () => {
  kernelDistance(a128, b128);
});

const val = await loadEmojiDataset("val");
const train = await loadEmojiDataset("train");
Deno.bench("pair JS, 770 val grids vs 6792 train grids (K=1024)", { n: 10, warmup: 1 }, () => {
  tokenPairDivergence(val, train, { vocabSize: 1024 });
});

const cnn = await loadEmojiClassifier();
const pictures = (await loadPatchTokenizer()).decodeSync({
  ...val,
  n: 256,
  tokens: val.tokens.subarray(0, 256 * 576),
});
Deno.bench("emoji CNN features, 256 pictures", { n: 10, warmup: 1 }, async () => {
  await cnn.features(pictures);
});
