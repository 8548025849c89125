import { assert, assertEquals, assertRejects } from "./assert.ts";
import { loadNpyFile } from "../src/io/mod.ts";
import { makeGrid } from "../src/media/mod.ts";
import { loadOnnxModel } from "../src/model/mod.ts";
import { cudaAvailable, missingCudaLibraries } from "../src/runtime/mod.ts";
import {
  PairingError,
  sample,
  sampleMany,
  SampleOptionsError,
  teacherForce,
} from "../src/sampler/mod.ts";
import { scheduleByName, scheduleFromJSON } from "../src/schedule/mod.ts";
import { ManifestError } from "../src/util/mod.ts";

const models = new URL("../fixtures/models/", import.meta.url);
const golden = new URL("../fixtures/golden/", import.meta.url);
const grid = makeGrid(24, 24);

Deno.test("teacher-forced logits match PyTorch's golden steps to 1e-4", async () => {
  for (
    const name of ["tiny-raster", "tiny-par4", "tiny-par16", "tiny-par4-causal", "tiny-par4-noinit"]
  ) {
    const dir = new URL(`${name}/`, golden);
    const index = JSON.parse(await Deno.readTextFile(new URL("index.json", dir)));
    const model = await loadOnnxModel(new URL(index.manifest, dir));
    const schedule = scheduleFromJSON(model.manifest.schedule);
    const tokens = (await loadNpyFile(new URL(index.sample, dir))).data as BigInt64Array;
    const tf = await teacherForce(model, schedule, Array.from(tokens, Number), index.classes, {
      keepLogits: true,
    });
    const V = model.manifest.vocabSize;
    let worst = 0;
    for (const step of index.steps) {
      const want = (await loadNpyFile(new URL(step.logits, dir))).data as Float32Array;
      const T = want.length / (index.batch * V);
      for (let b = 0; b < index.condRows; b++) {
        step.cells.forEach((cell: number, i: number) => {
          for (let v = 0; v < V; v++) {
            const got = tf.logits![(b * 576 + cell) * V + v];
            worst = Math.max(worst, Math.abs(got - want[(b * T + i) * V + v]));
          }
        });
      }
    }
    assert(worst <= 1e-4, `${name}: teacher forcing differs from PyTorch by ${worst}`);
    await model.dispose();
  }
});

Deno.test("teacher forcing: NLL and entropy are finite and the right shape", async () => {
  const model = await loadOnnxModel(new URL("tiny-par4.json", models));
  const tokens = new Int32Array(2 * 576).map((_, i) => (i * 7) % 1024);
  const r = await teacherForce(model, scheduleByName(grid, "par4"), tokens, [0, 1], {
    batchSize: 1,
  });
  assertEquals(r.nll.length, 2 * 576);
  assert(r.nll.every((x) => Number.isFinite(x) && x >= 0), "NLL not finite");
  assert(r.entropyBits.every((x) => x >= 0 && x <= 10 + 1e-9), "entropy outside [0, log2 V]");
  await model.dispose();
});

Deno.test("same seed, same tokens; another seed, other tokens; batch size does not matter", async () => {
  const model = await loadOnnxModel(new URL("tiny-par4.json", models));
  const schedule = scheduleByName(grid, "par4");
  const a = await sample(model, { schedule, classes: [0, 3], seed: 7, cfgScale: 1.5 });
  const b = await sample(model, { schedule, classes: [0, 3], seed: 7, cfgScale: 1.5 });
  const c = await sample(model, { schedule, classes: [0, 3], seed: 8, cfgScale: 1.5 });
  assertEquals(a.tokens, b.tokens);
  assert(a.tokens.some((t, i) => t !== c.tokens[i]), "seeds 7 and 8 gave the same tokens");
  const one = await sampleMany(model, { schedule, classes: [0, 3, 5], seed: 3, batchSize: 1 });
  const three = await sampleMany(model, { schedule, classes: [0, 3, 5], seed: 3, batchSize: 3 });
  const same = one.tokens.filter((t, i) => t === three.tokens[i]).length;
  // Batch size changes float summation inside the runtime; a draw near a boundary may flip.
  assert(
    same / one.tokens.length > 0.9,
    `only ${same} of ${one.tokens.length} tokens agree across batch sizes`,
  );
  assertEquals(a.trace.length, 147);
  assert(
    a.trace.every((t) => t.modelSeconds <= t.wallSeconds + 1e-9),
    "model time exceeds wall time",
  );
  await model.dispose();
});

Deno.test("sampleMany resumes: saved batches plus the rest equal one uninterrupted run", async () => {
  const model = await loadOnnxModel(new URL("tiny-par16.json", models));
  try {
    const schedule = scheduleByName(grid, "par16");
    const opts = { schedule, classes: [0, 1, 2, 3, 4], seed: 9, batchSize: 2, cfgScale: 2 };
    const saved: [number, Int32Array][] = [];
    const whole = await sampleMany(model, {
      ...opts,
      onBatch: (start, tokens) => void saved.push([start, tokens.slice()]),
    });
    assertEquals(saved.map(([start, t]) => [start, t.length / 576]), [[0, 2], [2, 2], [4, 1]]);
    const resumed = await sampleMany(model, { ...opts, resume: whole.tokens.slice(0, 2 * 576) });
    assertEquals(resumed.resumed, 2);
    assertEquals(resumed.batches.length, 2);
    assertEquals(resumed.tokens, whole.tokens);
    await assertRejects(
      () => sampleMany(model, { ...opts, resume: new Int32Array(100) }),
      SampleOptionsError,
      "resume: 100 tokens are not whole images",
    );
  } finally {
    await model.dispose();
  }
});

Deno.test("recorded entropy and top-k: every token among the k most likely", async () => {
  const model = await loadOnnxModel(new URL("tiny-raster.json", models));
  const out = await sample(model, {
    schedule: scheduleByName(grid, "raster"),
    classes: [1],
    recordEntropy: true,
    topK: 1,
    cfgScale: 1,
  });
  assert(out.trace.every((t) => t.entropyBits && t.entropyBits[0] >= 0), "entropy not recorded");
  // top-k 1 is greedy: teacher forcing of the result finds every token the argmax.
  const tf = await teacherForce(model, scheduleByName(grid, "raster"), out.tokens, [1], {
    keepLogits: true,
  });
  const V = 1024;
  for (let c = 0; c < 576; c++) {
    const row = tf.logits!.subarray(c * V, (c + 1) * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (row[v] > row[best]) best = v;
    assertEquals(out.tokens[c], best, `cell ${c}`);
  }
  await model.dispose();
});

Deno.test("KV cache truncation: rolling back and re-running a step gives the same logits", async () => {
  const model = await loadOnnxModel(new URL("tiny-raster.json", models));
  const cache = model.newCache(1);
  const step = (id: number, pos: number) =>
    model.step(cache, {
      batch: 1,
      length: 1,
      inputIds: new BigInt64Array([BigInt(id)]),
      positionIds: new BigInt64Array([BigInt(pos)]),
      attentionMask: new Uint8Array(cache.length + 1).fill(1),
    });
  await step(1024, -1);
  await step(5, 0);
  const first = (await step(9, 1)).logits.slice();
  model.truncate(cache, 2);
  assertEquals(cache.length, 2);
  const again = (await step(9, 1)).logits;
  assertEquals(Array.from(again), Array.from(first));
  await model.dispose();
});

Deno.test("bad inputs fail with messages that name the problem", async () => {
  const par4 = await loadOnnxModel(new URL("tiny-par4.json", models));
  const raster = await loadOnnxModel(new URL("tiny-raster.json", models));
  try {
    await assertRejects(
      () => sample(raster, { schedule: scheduleByName(grid, "par4"), classes: [0] }),
      PairingError,
      "has none (a raster model)",
    );
    await assertRejects(
      () => sample(par4, { schedule: scheduleByName(grid, "par16"), classes: [0] }),
      PairingError,
      "needs 15 transition tokens",
    );
    await assertRejects(
      () => sample(par4, { schedule: scheduleByName(makeGrid(16, 16), "par4"), classes: [0] }),
      PairingError,
      "16x16 grid but model",
    );
    await assertRejects(
      () => sample(par4, { schedule: scheduleByName(grid, "par4"), classes: [99] }),
      SampleOptionsError,
      "class 99 is out of range",
    );
    await assertRejects(
      () => sample(par4, { schedule: scheduleByName(grid, "par4"), classes: [0], temperature: 0 }),
      SampleOptionsError,
      "temperature",
    );
    await assertRejects(
      () => sample(par4, { schedule: scheduleByName(grid, "par4"), classes: [0], topP: 1.5 }),
      SampleOptionsError,
      "topP",
    );
    await assertRejects(
      () =>
        sample(par4, {
          schedule: scheduleByName(grid, "par4"),
          classes: [0],
          uniforms: new Float64Array(5),
        }),
      SampleOptionsError,
      "needs images x cells = 576",
    );
    const warnings: string[] = [];
    await sample(par4, {
      schedule: scheduleByName(grid, "raster4"),
      classes: [0],
      onWarning: (w) => warnings.push(w),
    });
    assertEquals(warnings.length, 1);
    assert(warnings[0].includes('trained for schedule "par4" but runs "raster4"'), warnings[0]);
  } finally {
    await par4.dispose();
    await raster.dispose();
  }
});

Deno.test("model loading: a wrong sha256, a broken manifest and no CUDA are clear errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const manifest = JSON.parse(await Deno.readTextFile(new URL("tiny-par4.json", models)));
    await Deno.copyFile(new URL("tiny-par4.onnx", models), `${dir}/tiny-par4.onnx`);
    await Deno.writeTextFile(
      `${dir}/bad-hash.json`,
      JSON.stringify({ ...manifest, sha256: "a".repeat(64) }),
    );
    await assertRejects(
      () => loadOnnxModel(`${dir}/bad-hash.json`),
      ManifestError,
      "differs from the manifest's",
    );
    await Deno.writeTextFile(
      `${dir}/bad-field.json`,
      JSON.stringify({ ...manifest, vocabSize: "many" }),
    );
    await assertRejects(
      () => loadOnnxModel(`${dir}/bad-field.json`),
      ManifestError,
      'field "vocabSize"',
    );
    await Deno.writeTextFile(`${dir}/not-json.json`, "{");
    await assertRejects(
      () => loadOnnxModel(`${dir}/not-json.json`),
      ManifestError,
      "not valid JSON",
    );
    await assertRejects(() => loadOnnxModel(`${dir}/missing.json`), ManifestError, "cannot read");
    if (missingCudaLibraries().length > 0) {
      // Refused before the runtime tries (and fails) to open the provider libraries.
      const cuda = await assertRejects(
        () => loadOnnxModel(new URL("tiny-par4.json", models), { executionProvider: "cuda" }),
        ManifestError,
        "no usable CUDA provider",
      );
      assert(cuda.message.includes("missing: libonnxruntime_providers_"), cuda.message);
      assertEquals(await cudaAvailable(), false);
    }
    // A file: URL and the .onnx path both find the manifest.
    const viaOnnx = await loadOnnxModel(new URL("tiny-par4.onnx", models).href);
    assertEquals(viaOnnx.manifest.name, "tiny-par4");
    await viaOnnx.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
