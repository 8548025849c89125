/**
 * The committed emoji classifier (fixtures/classifier/emoji-cnn.onnx + .json): size, manifest,
 * onnxruntime reproducing torch's outputs, and its recorded val accuracy.
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { EMOJI_CLASSIFIER_URL, loadEmojiClassifier } from "../src/metrics/mod.ts";
import { loadEmojiDataset, loadEmojiManifest, loadPatchTokenizer } from "../src/data/mod.ts";

Deno.test("emoji classifier: small, matches the emoji classes, 128-d features", async () => {
  const cnn = await loadEmojiClassifier();
  try {
    const size = (await Deno.stat(new URL(cnn.manifest.onnx, EMOJI_CLASSIFIER_URL))).size;
    assert(size <= 1024 * 1024, `emoji-cnn.onnx is ${size} bytes`);
    assertEquals(cnn.classNames, (await loadEmojiManifest()).classNames);
    assertEquals(cnn.featureDim, 128);
    assertEquals([cnn.manifest.input.height, cnn.manifest.input.width], [48, 48]);
  } finally {
    await cnn.release();
  }
});

Deno.test("emoji classifier: onnxruntime reproduces torch's golden logits and val accuracy", async () => {
  const cnn = await loadEmojiClassifier();
  try {
    const val = await loadEmojiDataset("val");
    const pictures = (await loadPatchTokenizer()).decodeSync(val);
    const out = await cnn.run(pictures, { batchSize: 128 });
    const golden = cnn.manifest.golden as { logits: number[][]; featuresHead: number[][] };
    golden.logits.forEach((row, i) => {
      row.forEach((v, c) => assertAlmostEquals(out.logits!.data[i * 9 + c], v, 2e-3));
      golden.featuresHead[i].forEach((v, j) =>
        assertAlmostEquals(out.features.data[i * 128 + j], v, 2e-3)
      );
    });
    const consistency = await cnn.classConsistency(pictures, val.labels);
    const recorded = (cnn.manifest.metrics as { valAccuracyRecon: number }).valAccuracyRecon;
    assertAlmostEquals(consistency.accuracy, recorded, 0.005);
    // the batch size does not change the features
    const first = { ...pictures, n: 10, data: pictures.data.subarray(0, 10 * 48 * 48 * 3) };
    const small = await cnn.features(first, { batchSize: 3 });
    for (let i = 0; i < small.data.length; i++) {
      assertAlmostEquals(small.data[i], out.features.data[i], 1e-4);
    }
  } finally {
    await cnn.release();
  }
});
