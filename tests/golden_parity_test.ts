/**
 * ONNX parity: every tiny model under fixtures/models reproduces, in onnxruntime-node, the
 * PyTorch logits of its golden decode (fixtures/golden/<model>/, written by python/golden.py)
 * through every kind of step: prefill, single-token steps, the first parallel step with
 * transition slots and later group steps, with CFG rows, replaying the KV cache from empty.
 * The tolerance is the golden's own (index.json): 1e-4, or python/golden.py's FP16_TOLERANCE
 * (5e-2) for an fp16-compute graph such as micro-par4-f16, whose float16 KV cache the CPU backend
 * runs too (measured: 5e-3 here; its WebGPU replay is in tests/fp16_compute_test.ts).
 */
import { assert } from "./assert.ts";
import { replayGolden } from "./golden_replay.ts";

const goldenRoot = new URL("../fixtures/golden/", import.meta.url);

function goldenDirs(): string[] {
  try {
    return [...Deno.readDirSync(goldenRoot)].filter((e) => e.isDirectory).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

Deno.test("golden files exist for the six tiny models and the tiny video model", () => {
  const names = goldenDirs();
  const configs = [
    "raster",
    "par4",
    "par16",
    "raster4",
    "par4-causal",
    "par4-noinit",
    "video-par4",
  ];
  for (const config of configs) {
    assert(names.includes(`tiny-${config}`), `fixtures/golden/tiny-${config} is missing`);
  }
});

for (const name of goldenDirs()) {
  Deno.test(`onnxruntime reproduces PyTorch logits: ${name}`, async () => {
    const { tolerance, results } = await replayGolden(new URL(`${name}/`, goldenRoot));
    assert(results.length >= 3, `${name}: too few golden steps`);
    const index = JSON.parse(await Deno.readTextFile(new URL(`${name}/index.json`, goldenRoot)));
    for (const [i, r] of results.entries()) {
      assert(
        r.maxAbsDiff <= tolerance,
        `${name} step ${r.step}: max |logit diff| ${r.maxAbsDiff} > ${tolerance}`,
      );
      assert(r.presentLength === index.steps[i].presentLength, `${name} step ${r.step}: KV length`);
    }
  });
}
