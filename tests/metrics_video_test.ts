/**
 * Video clip metrics: temporal token consistency and time-offset pair histograms by hand,
 * identical clip sets scoring 0, shuffled frames raising the temporal divergence (and only it),
 * and the committed clip classifier: onnxruntime reproducing torch's golden outputs and its
 * recorded val accuracy, Fréchet ~0 and JS 0 for a clip set against itself.
 */
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "./assert.ts";
import { Rng } from "../src/util/rng.ts";
import {
  CLIP_CLASSIFIER_URL,
  evaluateClips,
  HORIZONTAL,
  loadClipClassifier,
  loadEmojiClassifier,
  pairHistogram,
  prepareClipReference,
  TEMPORAL,
  temporalConsistency,
  tokenPairDivergence,
  VERTICAL,
} from "../src/metrics/mod.ts";
import { loadVideoDataset, loadVideoManifest } from "../src/data/video_fixture.ts";
import { PatchKMeansTokenizer } from "../src/tokenizer/mod.ts";

const clips = (n: number, f: number, h: number, w: number, tokens: number[]) => ({
  n,
  frames: f,
  height: h,
  width: w,
  tokens: Uint16Array.from(tokens),
});

Deno.test("temporal consistency by hand: the share of cells kept into the next frame", () => {
  // one clip, 3 frames of 1x2: (3,4) -> (3,5) -> (3,5): 1 of 2, then 2 of 2 kept
  const t = temporalConsistency(clips(1, 3, 1, 2, [3, 4, 3, 5, 3, 5]));
  assertEquals(t.perTransition, [0.5, 1]);
  assertEquals(t.share, 0.75);
  assertEquals(t.cells, 4);
  // frames all identical: 1; every cell changing: 0
  const still = Array.from({ length: 4 }, () => [1, 2, 3, 4]).flat();
  assertEquals(temporalConsistency(clips(1, 4, 2, 2, still)).share, 1);
  assertEquals(temporalConsistency(clips(1, 2, 1, 2, [0, 1, 1, 0])).share, 0);
  assertThrows(
    () => temporalConsistency(clips(1, 1, 1, 2, [0, 1])),
    RangeError,
    "at least 2 frames",
  );
  assertThrows(
    () => temporalConsistency(clips(2, 2, 1, 2, [0, 1, 1, 0])),
    RangeError,
    "n*frames*height*width",
  );
});

Deno.test("pair histograms over clips: spatial pairs inside frames, TEMPORAL across them", () => {
  // 2 frames of 1x2: frame 0 = (0, 1), frame 1 = (2, 3)
  const c = clips(1, 2, 1, 2, [0, 1, 2, 3]);
  const t = pairHistogram(c, TEMPORAL, { vocabSize: 4 });
  assertEquals(t.total, 2);
  assertEquals([...t.counts.keys()].sort((a, b) => a - b), [0 * 4 + 2, 1 * 4 + 3]);
  assertEquals(t.offset, { dy: 0, dx: 0, dt: 1 });
  // horizontal pairs never cross from one frame's last column to the next frame's first
  const h = pairHistogram(c, HORIZONTAL, { vocabSize: 4 });
  assertEquals([...h.counts.keys()].sort((a, b) => a - b), [0 * 4 + 1, 2 * 4 + 3]);
  // a diagonal in space and time: (f, r, c) -> (f + 1, r, c + 1)
  const d = pairHistogram(c, { dy: 0, dx: 1, dt: 1 }, { vocabSize: 4 });
  assertEquals([...d.counts.entries()], [[0 * 4 + 3, 1]]);
  // totals over a batch: n * (F - 1) * H * W and n * F * H * (W - 1)
  const big = clips(3, 5, 4, 6, new Array(3 * 5 * 4 * 6).fill(1));
  assertEquals(pairHistogram(big, TEMPORAL, { vocabSize: 2 }).total, 3 * 4 * 4 * 6);
  assertEquals(pairHistogram(big, HORIZONTAL, { vocabSize: 2 }).total, 3 * 5 * 4 * 5);
  assertEquals(pairHistogram(big, { dy: 0, dx: 0, dt: -2 }, { vocabSize: 2 }).total, 3 * 3 * 24);
  assertThrows(
    () => pairHistogram(clips(1, 1, 1, 2, [0, 1]), TEMPORAL, { vocabSize: 2 }),
    RangeError,
    "needs clips of more than 1 frames",
  );
  assertThrows(
    () => pairHistogram(c, { dy: 0, dx: 0, dt: 0 }, { vocabSize: 4 }),
    RangeError,
    "offset",
  );
});

/**
 * Clips of a moving bar: a run of 3 "object" codes on a background code, shifted by a random
 * velocity (-1, 0 or 1 columns) each frame, on a random row. Smooth in time, like real clips.
 */
function movingBars(n: number, seed: number) {
  const F = 5, H = 6, W = 8;
  const rng = new Rng(seed);
  const tokens = new Uint16Array(n * F * H * W).fill(0);
  for (let i = 0; i < n; i++) {
    const row = rng.int(H);
    const v = rng.int(3) - 1;
    const x0 = 2 + rng.int(W - 6);
    const colour = 1 + rng.int(3) * 3;
    for (let f = 0; f < F; f++) {
      for (let k = 0; k < 3; k++) {
        const x = x0 + v * f + k;
        if (x >= 0 && x < W) tokens[((i * F + f) * H + row) * W + x] = colour + k;
      }
    }
  }
  return { n, frames: F, height: H, width: W, tokens };
}

/** The same clips with the frames of each clip in a seeded random order. */
function shuffleFrames(c: ReturnType<typeof movingBars>, seed: number) {
  const rng = new Rng(seed);
  const plane = c.height * c.width;
  const out = new Uint16Array(c.tokens.length);
  for (let i = 0; i < c.n; i++) {
    const order = rng.shuffle([...Array(c.frames).keys()]);
    order.forEach((src, f) =>
      out.set(
        c.tokens.subarray((i * c.frames + src) * plane, (i * c.frames + src + 1) * plane),
        (i * c.frames + f) * plane,
      )
    );
  }
  return { ...c, tokens: out };
}

Deno.test("temporal pair divergence: identical sets 0, shuffled frames raise it, and only it", () => {
  const options = { vocabSize: 10, extraOffsets: [TEMPORAL] };
  const real = movingBars(400, 1);
  const same = tokenPairDivergence(real, { ...real, tokens: real.tokens.slice() }, options);
  assertEquals(same.perOffset.map((o) => o.js), [0, 0, 0]);
  assertEquals(same.perOffset[2].dt, 1);
  const heldOut = movingBars(400, 2);
  const shuffled = shuffleFrames(heldOut, 3);
  const floor = tokenPairDivergence(heldOut, real, options);
  const broken = tokenPairDivergence(shuffled, real, options);
  assert(
    broken.perOffset[2].js > 3 * floor.perOffset[2].js,
    `temporal JS ${broken.perOffset[2].js} vs floor ${floor.perOffset[2].js}`,
  );
  // frames are only reordered: the pairs inside each frame are the same multiset
  assertEquals(broken.horizontal, floor.horizontal);
  assertEquals(broken.vertical, floor.vertical);
  assert(temporalConsistency(shuffled).share < temporalConsistency(heldOut).share);
  // a prepared histogram list without the temporal one is refused, naming the offset
  const spatialOnly = [HORIZONTAL, VERTICAL].map((o) => pairHistogram(real, o, options));
  assertThrows(
    () => tokenPairDivergence(heldOut, spatialOnly, options),
    RangeError,
    "(0, 0, dt 1)",
  );
});

async function valClips(count: number) {
  const val = await loadVideoDataset("val");
  const manifest = await loadVideoManifest();
  const tokenizer = await PatchKMeansTokenizer.load(
    new URL(manifest.tokenizer.codebook, new URL("../fixtures/video/", import.meta.url)),
  );
  const cells = val.frames * val.height * val.width;
  const n = Math.min(count, val.n);
  return {
    val,
    tokenizer,
    clips: {
      n,
      frames: val.frames,
      height: val.height,
      width: val.width,
      tokens: val.tokens.slice(0, n * cells),
    },
    labels: val.labels.slice(0, n),
  };
}

Deno.test("clip classifier: small, 5-frame input, torch's golden outputs and val accuracy", async () => {
  const cnn = await loadClipClassifier();
  try {
    const size = (await Deno.stat(new URL(cnn.manifest.onnx, CLIP_CLASSIFIER_URL))).size;
    assert(size <= 1024 * 1024, `clip-cnn.onnx is ${size} bytes`);
    assertEquals(cnn.classNames, (await loadVideoManifest()).classNames);
    assertEquals(cnn.manifest.input.frames, 5);
    assert(cnn.featureDim >= 64 && cnn.featureDim <= 128, `featureDim ${cnn.featureDim}`);
    const { val, tokenizer } = await valClips(8);
    const pictures = tokenizer.decodeSync(val);
    const out = await cnn.run(pictures, { batchSize: 100 });
    const golden = cnn.manifest.golden as { logits: number[][]; featuresHead: number[][] };
    const d = cnn.featureDim;
    golden.logits.forEach((row, i) => {
      row.forEach((v, c) => assertAlmostEquals(out.logits!.data[i * 4 + c], v, 2e-3));
      golden.featuresHead[i].forEach((v, j) =>
        assertAlmostEquals(out.features.data[i * d + j], v, 2e-3)
      );
    });
    const consistency = await cnn.classConsistency(pictures, val.labels);
    const recorded = (cnn.manifest.metrics as { valAccuracyRecon: number }).valAccuracyRecon;
    assertAlmostEquals(consistency.accuracy, recorded, 0.005);
    // the batch size does not change the features
    const per = 5 * 24 * 24 * 3;
    const first = { ...pictures, n: 6, data: pictures.data.subarray(0, 6 * per) };
    const small = await cnn.features(first, { batchSize: 4 });
    for (let i = 0; i < small.data.length; i++) {
      assertAlmostEquals(small.data[i], out.features.data[i], 1e-4);
    }
  } finally {
    await cnn.release();
  }
});

Deno.test("feature extractors refuse batches with the wrong frame count, naming the fix", async () => {
  const clip = await loadClipClassifier();
  const emoji = await loadEmojiClassifier();
  try {
    const still = { n: 1, height: 24, width: 24, data: new Uint8Array(24 * 24 * 3) };
    const err = await clip.run(still).then(() => null, (e: Error) => e);
    assert(err instanceof RangeError && err.message.includes("takes 5"), String(err));
    const video = { n: 1, frames: 5, height: 48, width: 48, data: new Uint8Array(5 * 48 * 48 * 3) };
    const err2 = await emoji.run(video).then(() => null, (e: Error) => e);
    assert(err2 instanceof RangeError && err2.message.includes("asFrames"), String(err2));
  } finally {
    await clip.release();
    await emoji.release();
  }
});

Deno.test("evaluateClips: a clip set against itself scores Fréchet ~0 and JS 0", async () => {
  const cnn = await loadClipClassifier();
  try {
    const { clips: set, labels, tokenizer } = await valClips(64);
    const ref = await prepareClipReference(set, tokenizer, cnn);
    assertEquals(ref.pairs.map((h) => h.offset), [HORIZONTAL, VERTICAL, TEMPORAL]);
    const m = await evaluateClips({
      generated: set,
      labels,
      real: ref,
      tokenizer,
      classifier: cnn,
      kid: { subsets: 5, seed: 0 },
    });
    assert(m.frechet < 1e-6, `Fréchet ${m.frechet}`);
    assertEquals([m.pairJS.horizontal, m.pairJS.vertical, m.temporalJS], [0, 0, 0]);
    assertEquals(m.temporalConsistency.generated, m.temporalConsistency.real);
    const direct = await cnn.classConsistency(tokenizer.decodeSync(set), labels);
    assertEquals(m.classAccuracy, direct.accuracy);
    // shuffling the frames of each clip lowers the consistency and raises the temporal JS
    const plane = set.height * set.width;
    const rng = new Rng(7);
    const shuffled = new Uint16Array(set.tokens.length);
    for (let i = 0; i < set.n; i++) {
      rng.shuffle([...Array(set.frames).keys()]).forEach((src, f) =>
        shuffled.set(
          set.tokens.subarray((i * 5 + src) * plane, (i * 5 + src + 1) * plane),
          (i * 5 + f) * plane,
        )
      );
    }
    const bad = await evaluateClips({
      generated: { ...set, tokens: shuffled },
      labels,
      real: ref,
      tokenizer,
      classifier: cnn,
      kid: { subsets: 5, seed: 0 },
    });
    assert(bad.temporalJS > 0.05, `temporal JS ${bad.temporalJS}`);
    assertEquals([bad.pairJS.horizontal, bad.pairJS.vertical], [0, 0]);
    assert(
      bad.temporalConsistency.generated.share < m.temporalConsistency.generated.share,
      "shuffled frames keep fewer tokens",
    );
  } finally {
    await cnn.release();
  }
});
