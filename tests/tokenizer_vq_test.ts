/**
 * The VQ tokenizer (LlamaGen's VQModel exported by python/vq) against PyTorch: the committed
 * small same-architecture tokenizer's golden codes and pixels (written by python/vq/golden.py)
 * must come out of onnxruntime-node the same; uint8 pictures round-trip through the Tokenizer
 * interface, clips frame by frame; bad inputs name the fix.
 */
import { hasTorch, PYTHON } from "./python.ts";
import { assert, assertEquals } from "./assert.ts";
import { loadNpyFile } from "../src/io/npy.ts";
import { parseVqManifest, VqTokenizer } from "../src/tokenizer/vq.ts";
import { denoRun } from "./deno_run.ts";
import { loadOnnxModel } from "../src/model/onnx_node.ts";
import { loadModelTokenizer } from "../src/model/tokenizer.ts";

const dir = new URL("../fixtures/tokenizers/", import.meta.url);
const MANIFEST = new URL("vq-tiny16.tokenizer.json", dir);
const golden = new URL("vq-tiny16.golden/", dir);

/**
 * Compare a tokenizer's graphs in onnxruntime-node with PyTorch's golden outputs (written by
 * python/vq/golden.py): decode within the golden's tolerance, encode to the same codes.
 */
async function checkGolden(manifest: URL | string, goldenDir: URL): Promise<number> {
  const index = JSON.parse(await Deno.readTextFile(new URL("index.json", goldenDir)));
  const vq = await VqTokenizer.load(manifest, { threads: 1 });
  try {
    const codes = await loadNpyFile(new URL(index.decode.codes, goldenDir));
    const want = await loadNpyFile(new URL(index.decode.pixels, goldenDir));
    const [n, rows, cols] = index.decode.shape;
    const got = await vq.decodePixels(
      Array.from(codes.data as ArrayLike<number | bigint>, Number),
      n,
      rows,
      cols,
    );
    assertEquals(got.length, want.data.length);
    let maxAbs = 0;
    for (let i = 0; i < got.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(got[i] - Number((want.data as Float32Array)[i])));
    }
    assert(maxAbs <= index.tolerance, `decode max abs error ${maxAbs} > ${index.tolerance}`);
    const pixels = await loadNpyFile(new URL(index.encode.pixels, goldenDir));
    const [en, eh, ew] = index.encode.shape;
    const wantCodes = await loadNpyFile(new URL(index.encode.codes, goldenDir));
    const gotCodes = await vq.encodePixels(
      Float32Array.from(pixels.data as Float32Array),
      en,
      eh,
      ew,
    );
    assertEquals(
      Array.from(gotCodes),
      Array.from(wantCodes.data as ArrayLike<number | bigint>, Number),
      "codes equal PyTorch's argmin",
    );
    return maxAbs;
  } finally {
    await vq.dispose();
  }
}

Deno.test("VQ tokenizer: decode gives PyTorch's pixels, encode PyTorch's codes", async () => {
  const vq = await VqTokenizer.load(MANIFEST, { threads: 1 });
  assertEquals([vq.vocabSize, vq.downsample], [1024, 16]);
  await vq.dispose();
  await checkGolden(MANIFEST, golden);
});

Deno.test({
  name: "VQ-16 at full size (random weights, exported by python/ now): Deno equals PyTorch",
  ignore: !hasTorch,
  fn: async () => {
    // LlamaGen's VQ-16 architecture at its real width (72M parameters, 288 MB of graphs),
    // built and exported by python/vq with random weights into a temporary folder.
    const dir = await Deno.makeTempDir({ prefix: "parlab-vq16-" });
    try {
      const py = await new Deno.Command(PYTHON, {
        args: ["-m", "python.vq.golden", "--random", "VQ-16", "--out", dir, "--decode", "1x2x3"],
        cwd: new URL("../", import.meta.url).pathname,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert(py.success, new TextDecoder().decode(py.stderr));
      const maxAbs = await checkGolden(
        `${dir}/vq16-random.tokenizer.json`,
        new URL(`file://${dir}/vq16-random.golden/`),
      );
      assert(maxAbs <= 1e-4, `decode max abs error ${maxAbs}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("VQ tokenizer: uint8 pictures and clips through the Tokenizer interface", async () => {
  const vq = await VqTokenizer.load(MANIFEST, { threads: 1, batchSize: 2 });
  try {
    const tokens = Uint16Array.from({ length: 3 * 2 * 2 * 3 }, (_, i) => (i * 97) % 1024);
    const clip = await vq.decode({ n: 2, frames: 3, height: 2, width: 3, tokens });
    assertEquals([clip.n, clip.frames, clip.height, clip.width], [2, 3, 32, 48]);
    const frames = await vq.decode({ n: 6, height: 2, width: 3, tokens });
    assertEquals(clip.data, frames.data, "a clip decodes as its frames");
    const back = await vq.encode(clip);
    assertEquals([back.n, back.frames, back.height, back.width], [2, 3, 2, 3]);
    const again = await vq.encode(frames);
    assertEquals(back.tokens, again.tokens);
    const err = await vq.encode({ n: 1, height: 30, width: 32, data: new Uint8Array(30 * 32 * 3) })
      .then(() => null, (e) => e as Error);
    assert(err?.name === "ManifestError" && err.message.includes("Fix: resize"), String(err));
    const bad = await vq.decode({ n: 1, height: 1, width: 1, tokens: [1024] }).then(
      () => null,
      (e) => e as Error,
    );
    assert(bad?.message.includes("not in [0, 1024)"), String(bad));
  } finally {
    await vq.dispose();
  }
});

Deno.test("VQ tokenizer manifest: wrong format, missing graphs and hashes name the field", async () => {
  const json = JSON.parse(await Deno.readTextFile(MANIFEST));
  const bad = (edit: (j: Record<string, unknown>) => void) => {
    const j = structuredClone(json);
    edit(j);
    try {
      parseVqManifest(j, "t.json");
      return "";
    } catch (e) {
      return (e as Error).message;
    }
  };
  assert(bad((j) => (j.format = "parlab-model/1")).includes('"format"'));
  assert(bad((j) => (j.codebookSize = 100000)).includes("codebookSize"));
  assert(bad((j) => (j.files = (j.files as unknown[]).slice(0, 1))).includes("files"));
  const dirCopy = await Deno.makeTempDir();
  try {
    for (const f of json.files) await Deno.copyFile(new URL(f.path, dir), `${dirCopy}/${f.path}`);
    const wrong = structuredClone(json);
    wrong.files[1].sha256 = "0".repeat(64);
    await Deno.writeTextFile(`${dirCopy}/t.json`, JSON.stringify(wrong));
    const err = await VqTokenizer.load(`${dirCopy}/t.json`).then(() => null, (e) => e as Error);
    assert(err?.name === "ManifestError" && err.message.includes("sha256"), String(err));
  } finally {
    await Deno.remove(dirCopy, { recursive: true });
  }
});

Deno.test("VQ model: deno task sample decodes through the tokenizer the manifest names", async () => {
  const out = await Deno.makeTempDir({ prefix: "parlab-vq-" });
  try {
    const r = await denoRun([
      new URL("../main/sample.ts", import.meta.url).pathname,
      "--model",
      new URL("../fixtures/models/random-par4-vq.json", import.meta.url).pathname,
      "--classes",
      "0,999",
      "--pngs",
      "--image-size-eval",
      "256",
      "--out",
      out,
    ]);
    assertEquals(r.code, 0, r.stderr);
    const names = [...Deno.readDirSync(`${out}/images`)].map((e) => e.name).sort();
    assertEquals(names, ["000000_0.png", "000001_999.png"]);
    const png = await Deno.readFile(`${out}/images/000001_999.png`);
    const view = new DataView(png.buffer, png.byteOffset);
    assertEquals([view.getUint32(16), view.getUint32(20)], [256, 256], "resized for evaluation");
    const labels = await loadNpyFile(`${out}/labels.npy`);
    assertEquals([labels.dtype, Array.from(labels.data as Uint16Array)], ["uint16", [0, 999]]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("VQ model: a tokenizer whose codebook differs from the vocabulary is refused", async () => {
  const dirCopy = await Deno.makeTempDir();
  try {
    const json = JSON.parse(await Deno.readTextFile(MANIFEST));
    for (const f of json.files) await Deno.copyFile(new URL(f.path, dir), `${dirCopy}/${f.path}`);
    json.codebookSize = 512;
    await Deno.writeTextFile(`${dirCopy}/t.tokenizer.json`, JSON.stringify(json));
    const model = JSON.parse(
      await Deno.readTextFile(new URL("../fixtures/models/random-par4-vq.json", import.meta.url)),
    );
    await Deno.copyFile(
      new URL("../fixtures/models/random-par4-vq.onnx", import.meta.url),
      `${dirCopy}/m.onnx`,
    );
    model.onnx = "m.onnx";
    model.tokenizer = { kind: "vq", manifest: "t.tokenizer.json" };
    await Deno.writeTextFile(`${dirCopy}/m.json`, JSON.stringify(model));
    const m = await loadOnnxModel(`${dirCopy}/m.json`);
    try {
      const err = await loadModelTokenizer(m).then(() => null, (e) => e as Error);
      assert(err?.name === "ManifestError", String(err));
      assert(err.message.includes("512 codes") && err.message.includes("1024"), err.message);
    } finally {
      await m.dispose();
    }
  } finally {
    await Deno.remove(dirCopy, { recursive: true });
  }
});
