import { assertEquals } from "./assert.ts";
import { makeGrid } from "../src/media/mod.ts";
import { type ModelManifest, parseModelManifest } from "../src/model/mod.ts";
import { buildSequenceInputs, buildStepInputs } from "../src/sampler/mod.ts";
import { par, raster, stepSlots } from "../src/schedule/mod.ts";

const grid = makeGrid(4, 4);
const manifest: ModelManifest = parseModelManifest({
  format: "parlab-model/1",
  name: "layout-test",
  onnx: "x.onnx",
  sha256: "0".repeat(64),
  dtype: "float32",
  vocabSize: 10,
  numClasses: 3,
  transitionTokens: 3,
  grid: { height: 4, width: 4 },
  layers: 1,
  heads: 1,
  kvHeads: 1,
  headDim: 4,
  dim: 4,
}, "test");

Deno.test("step inputs: class ids, null class, transition ids, positions, full mask", () => {
  const s = par(grid, { m: 2 });
  const slots = stepSlots(s);
  const tokens = new Int32Array(16).map((_, i) => i % 10);
  // Step 0: the class slot; cond row class 2 -> 10 + 2, uncond row -> 10 + 3.
  const first = buildStepInputs(manifest, slots[0], "full", [2, null], tokens, 16, [0, 0], 0);
  assertEquals([...first.inputIds].map(Number), [12, 13]);
  assertEquals([...first.positionIds].map(Number), [-1, -1]);
  assertEquals([...first.attentionMask], [1, 1]);
  // Step 4 (first parallel step): [cell of step 3, T1, T2, T3] after 4 cached slots.
  const p = buildStepInputs(manifest, slots[4], "full", [1], tokens, 16, [0], 4);
  const cell = s.steps[3].cells[0];
  assertEquals([...p.inputIds].map(Number), [tokens[cell], 14, 15, 16]);
  assertEquals([...p.positionIds].map(Number), [cell, -1, -1, -1]);
  assertEquals([...p.attentionMask], new Array(4 * 8).fill(1));
});

Deno.test("step inputs: causal mask inside a step", () => {
  const s = par(grid, { m: 2, attention: "causal" });
  const inputs = buildStepInputs(manifest, stepSlots(s)[5], "causal", [0], new Int32Array(16), 16, [
    0,
  ], 8);
  const rows = [];
  for (let i = 0; i < 4; i++) {
    rows.push([...inputs.attentionMask.slice(i * 12, i * 12 + 12)].join(""));
  }
  assertEquals(rows, ["111111111000", "111111111100", "111111111110", "111111111111"]);
});

Deno.test("sequence inputs: block mask of the whole schedule", () => {
  const s = par(grid, { m: 2 });
  const seq = buildSequenceInputs(
    manifest,
    stepSlots(s),
    s.steps.map((x) => x.attention),
    [0],
    new Int32Array(16),
    16,
    [0],
  );
  const L = seq.length;
  assertEquals(L, 16);
  const row = (a: number) => [...seq.attentionMask.slice(a * L, a * L + L)].join("");
  assertEquals(row(0), "1000000000000000"); // class slot
  assertEquals(row(3), "1111000000000000"); // last initial single slot
  assertEquals(row(4), "1111111100000000"); // first parallel group: [v4, T1, T2, T3] see each other
  assertEquals(row(7), "1111111100000000");
  assertEquals(row(8), "1111111111110000");
  const r = buildSequenceInputs(
    manifest,
    stepSlots(raster(grid)),
    raster(grid).steps.map((x) => x.attention),
    [0],
    new Int32Array(16),
    16,
    [0],
  );
  assertEquals([...r.attentionMask.slice(5 * 16, 6 * 16)].join(""), "1111110000000000");
});
