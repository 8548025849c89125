/**
 * The FID Inception, PyTorch against onnxruntime-node: `python -m python.inception.golden` builds
 * the network with seeded random weights at 1/16 width (same depth, wiring, 299x299 resize and
 * 17x17x7 spatial output as the real one; 0.9 MB), exports it with the exporter the real weights
 * go through and records PyTorch's pool/logits/spatial for three 48x64 pictures. Here the graph
 * runs through ImageFeatureExtractor (the path `deno task fid` takes) and must reproduce them.
 * Both preprocessing modes: ADM's (TF 1.x asymmetric bilinear resize, (x - 128) / 128) and
 * pytorch-fid's (half-pixel bilinear, 2x - 1). About 10 s, most of it Python's start and export.
 */
import { hasTorch, PYTHON } from "./python.ts";
import { assert, assertEquals } from "./assert.ts";
import { ImageFeatureExtractor } from "../src/metrics/image_features.ts";
import { loadNpyFile } from "../src/io/npy.ts";
import type { FeatureSet } from "../src/metrics/features.ts";

const ROOT = new URL("../", import.meta.url);
/** Largest difference allowed, relative to the output's largest magnitude (max 1). */
const TOLERANCE = 1e-4;

/** Export the random-weight graph + golden into a temp folder; returns the folder. */
async function golden(preprocess: "adm" | "pytorch-fid"): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: `inception-${preprocess}-` });
  const out = await new Deno.Command(PYTHON, {
    args: ["-m", "python.inception.golden", "--out", dir, "--preprocess", preprocess],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  return dir;
}

function maxAbsDiff(a: FeatureSet, b: { shape: number[]; data: ArrayLike<number> }) {
  assertEquals([a.n, a.d], b.shape);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.data.length; i++) {
    diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]));
    scale = Math.max(scale, Math.abs(b.data[i]));
  }
  return { diff, scale };
}

for (const preprocess of ["adm", "pytorch-fid"] as const) {
  Deno.test({
    name:
      `inception parity (${preprocess}): onnxruntime reproduces PyTorch's pool, logits, spatial`,
    ignore: !hasTorch,
    fn: async () => {
      const dir = await golden(preprocess);
      try {
        const ex = await ImageFeatureExtractor.load(`${dir}/inception-tiny.json`, { threads: 2 });
        const m = ex.manifest;
        assertEquals(m.outputs, { features: "pool", logits: "logits", spatial: "spatial" });
        assertEquals([m.input.height, m.input.width, m.input.layout], [48, 64, "NCHW"]);
        assertEquals(m.classNames!.length, 1008);
        assertEquals(m.featureDim, 128); // 2048 / 16
        const pics = await loadNpyFile(`${dir}/golden/pictures.npy`);
        assertEquals(pics.shape, [3, 48, 64, 3]);
        const images = { n: 3, height: 48, width: 64, data: pics.data as Uint8Array };
        // Batches of 2: the dynamic batch axis and the copy into place at an offset.
        const out = await ex.run(images, { batchSize: 2 });
        const report: string[] = [];
        for (
          const [name, got] of [
            ["pool", out.features],
            ["logits", out.logits!],
            ["spatial", out.spatial!],
          ] as const
        ) {
          const want = await loadNpyFile(`${dir}/golden/${name}.npy`);
          assertEquals(want.dtype, "float32");
          const { diff, scale } = maxAbsDiff(got, {
            shape: want.shape,
            data: want.data as Float32Array,
          });
          report.push(`${name} ${diff.toExponential(2)} (max |value| ${scale.toFixed(2)})`);
          assert(scale > 0.1, `${name}: golden values are all near 0`);
          assert(
            diff <= TOLERANCE * Math.max(1, scale),
            `${name}: max abs difference ${diff} over ${TOLERANCE * Math.max(1, scale)}`,
          );
        }
        assertEquals(out.spatial!.d, 2023); // 17 x 17 x 7 at any width
        console.log(`  ${preprocess} max abs error: ${report.join(", ")}`);
        await ex.release();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: "inception: a picture of another size is resized to the manifest's size first",
  ignore: !hasTorch,
  fn: async () => {
    const dir = await golden("adm");
    try {
      const ex = await ImageFeatureExtractor.load(`${dir}/inception-tiny.json`, { threads: 2 });
      const pics = await loadNpyFile(`${dir}/golden/pictures.npy`);
      const data = pics.data as Uint8Array;
      const exact = await ex.run({ n: 3, height: 48, width: 64, data });
      // The flat grey picture (index 1) at 24x32: any resize kernel keeps it grey, so its features
      // equal those of the 48x64 original.
      const grey = { n: 1, height: 24, width: 32, data: new Uint8Array(24 * 32 * 3).fill(128) };
      const small = await ex.run(grey);
      const d = small.features.d;
      let diff = 0;
      for (let j = 0; j < d; j++) {
        diff = Math.max(diff, Math.abs(small.features.data[j] - exact.features.data[d + j]));
      }
      assert(diff < 1e-4, `grey picture resized: features differ by ${diff}`);
      assertEquals(small.spatial!.d, 2023);
      await ex.release();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
