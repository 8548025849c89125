/**
 * ImageFeatureExtractor with two tiny committed ONNX graphs (per-channel means, NCHW and NHWC):
 * normalisation and layout exactly, resizing, batching, fixed batch sizes, class consistency,
 * and manifest errors that name the field.
 */
import { assertAlmostEquals, assertEquals, assertRejects } from "./assert.ts";
import { consistencyFromLogits, ImageFeatureExtractor } from "../src/metrics/mod.ts";
import { ManifestError } from "../src/util/errors.ts";
import type { ImageBatch } from "../src/media/batches.ts";

const fixtures = new URL("../fixtures/classifier/", import.meta.url);

/** Write a manifest (and a copy of the graph) into a temp folder; returns the manifest path. */
async function withManifest(layout: "NCHW" | "NHWC", edit: (m: Record<string, unknown>) => void) {
  const dir = await Deno.makeTempDir({ prefix: "metrics-features-" });
  const onnx = `test-mean-${layout.toLowerCase()}.onnx`;
  await Deno.copyFile(new URL(onnx, fixtures), `${dir}/${onnx}`);
  const m: Record<string, unknown> = {
    format: "parlab-image-features/1",
    name: "mean",
    onnx,
    input: {
      name: "x",
      layout,
      height: 4,
      width: 4,
      mean: [0.5, 0.25, 0],
      std: [0.5, 0.25, 2],
    },
    outputs: { features: "features", logits: "scores" },
    featureDim: 3,
    classNames: ["red", "green", "blue"],
  };
  edit(m);
  await Deno.writeTextFile(`${dir}/mean.json`, JSON.stringify(m));
  return { path: `${dir}/mean.json`, dir };
}

/** n pictures of size x size, picture i filled with colour colours[i]. */
function solid(colours: number[][], size: number): ImageBatch {
  const data = new Uint8Array(colours.length * size * size * 3);
  colours.forEach((rgb, i) => {
    for (let p = 0; p < size * size; p++) data.set(rgb, (i * size * size + p) * 3);
  });
  return { n: colours.length, height: size, width: size, data };
}

const colours = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [51, 102, 204], [255, 255, 255]];
const expected = (rgb: number[]) => {
  const mean = [0.5, 0.25, 0];
  const std = [0.5, 0.25, 2];
  return rgb.map((v, c) => (v / 255 - mean[c]) / std[c]);
};

for (const layout of ["NCHW", "NHWC"] as const) {
  Deno.test(`features: ${layout} layout and (x/255 - mean)/std normalisation exactly`, async () => {
    const { path, dir } = await withManifest(layout, () => {});
    const model = await ImageFeatureExtractor.load(path);
    try {
      const out = await model.run(solid(colours, 4), { batchSize: 2 });
      assertEquals(out.features.n, 5);
      assertEquals(out.features.d, 3);
      colours.forEach((rgb, i) => {
        const e = expected(rgb);
        for (let c = 0; c < 3; c++) assertAlmostEquals(out.features.data[i * 3 + c], e[c], 1e-6);
      });
      assertEquals(out.logits!.data, out.features.data);
      assertEquals(model.classNames, ["red", "green", "blue"]);
    } finally {
      await model.release();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("features: pictures of another size are resized; batch size does not matter", async () => {
  const { path, dir } = await withManifest("NCHW", () => {});
  const model = await ImageFeatureExtractor.load(path);
  try {
    const big = await model.features(solid(colours, 12)); // resized 12 -> 4 (solid stays solid)
    const small = await model.features(solid(colours, 4), { batchSize: 1 });
    for (let i = 0; i < small.data.length; i++) {
      assertAlmostEquals(big.data[i], small.data[i], 1e-6);
    }
  } finally {
    await model.release();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("features: a fixed batch size pads the last batch and drops the padding", async () => {
  const { path, dir } = await withManifest("NHWC", (m) => {
    (m.input as Record<string, unknown>).batchSize = 4;
  });
  const model = await ImageFeatureExtractor.load(path);
  try {
    const out = await model.features(solid(colours, 4));
    assertEquals(out.n, 5);
    const e = expected(colours[4]);
    for (let c = 0; c < 3; c++) assertAlmostEquals(out.data[12 + c], e[c], 1e-6);
  } finally {
    await model.release();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("class consistency: arg-max against labels, balanced and per class", async () => {
  const { path, dir } = await withManifest("NCHW", () => {});
  const model = await ImageFeatureExtractor.load(path);
  try {
    // normalised channels: red picture -> [1, -1, 0]: class 0; green -> 1; blue -> [-1,-1,0.5]: 2
    const pics = solid([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 0, 0]], 4);
    const r = await model.classConsistency(pics, [0, 1, 2, 1]);
    assertEquals([...r.predictions], [0, 1, 2, 0]);
    assertEquals(r.accuracy, 0.75);
    assertEquals(r.perClass, [1, 0.5, 1]);
    assertAlmostEquals(r.balancedAccuracy, 2.5 / 3, 1e-15);
  } finally {
    await model.release();
    await Deno.remove(dir, { recursive: true });
  }
  const sparse = consistencyFromLogits({ n: 2, d: 3, data: new Float32Array([0, 1, 0, 1, 0, 0]) }, [
    1,
    1,
  ]);
  assertEquals(sparse.perClass, [null, 0.5, null]);
  assertEquals(sparse.balancedAccuracy, 0.5);
});

Deno.test("feature manifest errors name the field and the fix", async () => {
  const cases: [(m: Record<string, unknown>) => void, string][] = [
    [(m) => ((m.input as Record<string, unknown>).layout = "CHW"), '"input.layout"'],
    [(m) => ((m.input as Record<string, unknown>).std = [1, 0, 1]), '"input.std.1"'],
    [(m) => (m.classNames = null), '"classNames"'],
    [(m) => (m.format = "other"), '"format"'],
    [(m) => ((m.input as Record<string, unknown>).name = "pixels"), 'input "pixels"'],
    [(m) => ((m.outputs as Record<string, unknown>).features = "pool"), '"pool"'],
    [(m) => (m.sha256 = "0".repeat(64)), "sha256"],
    [(m) => (m.featureDim = 5), "featureDim"],
  ];
  for (const [edit, text] of cases) {
    const { path, dir } = await withManifest("NCHW", edit);
    try {
      await assertRejects(
        async () => {
          const model = await ImageFeatureExtractor.load(path);
          try {
            await model.run(solid(colours, 4));
          } finally {
            await model.release();
          }
        },
        ManifestError,
        text,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  // classConsistency without a logits output
  const { path, dir } = await withManifest("NCHW", (m) => {
    (m.outputs as Record<string, unknown>).logits = null;
  });
  const model = await ImageFeatureExtractor.load(path);
  try {
    assertEquals(model.classNames, null);
    await assertRejects(
      () => model.classConsistency(solid(colours, 4), [0, 0, 0, 0, 0]),
      ManifestError,
      "logits",
    );
  } finally {
    await model.release();
    await Deno.remove(dir, { recursive: true });
  }
});
