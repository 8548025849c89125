/**
 * The chunk-grown key/value cache (src/model/kv_arena.ts) and the draw-time check for
 * non-finite logits: the arena path gives the same logits as the grown-cache path, truncation
 * rolls back exactly, and a NaN at a late step is an error naming the step, not a silent token.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { ARENA_CHUNK, ArenaCache } from "../src/model/kv_arena.ts";
import { loadOnnxModel } from "../src/model/onnx_node.ts";
import { NonFiniteLogitsError, TokenDrawer } from "../src/sampler/distribution.ts";
import { sample } from "../src/sampler/sampler.ts";
import { makeGrid } from "../src/media/grid.ts";
import { scheduleByName } from "../src/schedule/registry.ts";
import { buildStepInputs } from "../src/sampler/layout.ts";
import { stepSlots } from "../src/schedule/schedule.ts";
import type { ARModel, KVCache, StepInputs, StepOutput } from "../src/model/ar_model.ts";
import { ManifestError } from "../src/util/errors.ts";

const MICRO = new URL("../fixtures/models/micro-par4-fused.json", import.meta.url);

Deno.test("arena: append lays slots out by row, grows by chunks, masks the padding", () => {
  const c = new ArenaCache(2, 1, 1, 2, "float32"); // 2 rows (batch 2 x 1 head), head width 2
  // step 1: T = 2 slots; row r slot t holds [10r + t, 10r + t + 0.5]
  const fresh = (T: number, base: number) =>
    Float32Array.from({ length: 2 * T * 2 }, (_, k) => {
      const r = Math.floor(k / (T * 2));
      const t = Math.floor(k / 2) % T;
      return 10 * r + base + t + (k % 2) * 0.5;
    });
  c.append([fresh(2, 0)], [fresh(2, 0)], 2);
  assertEquals(c.length, 2);
  assertEquals(c.capacity, ARENA_CHUNK);
  assertEquals(Array.from(c.keys[0].subarray(0, 4)), [0, 0.5, 1, 1.5]);
  assertEquals(Array.from(c.keys[0].subarray(ARENA_CHUNK * 2, ARENA_CHUNK * 2 + 4)), [
    10,
    10.5,
    11,
    11.5,
  ]);
  // the mask of a 1-slot step over 2 cached slots widens to capacity + 1, padding off
  const mask = Uint8Array.from([1, 1, 1, 1, 0, 1]); // 2 rows x [P = 2 | T = 1]
  const wide = c.widenMask(mask, 1);
  assertEquals(wide.length, 2 * (ARENA_CHUNK + 1));
  assertEquals(Array.from(wide.subarray(0, 3)), [1, 1, 0]);
  assertEquals(wide[ARENA_CHUNK], 1);
  assertEquals(Array.from(wide.subarray(ARENA_CHUNK + 1, ARENA_CHUNK + 3)), [1, 0]);
  assertEquals(wide[2 * ARENA_CHUNK + 1], 1);
  // filling past the capacity re-lays the rows out with the kept slots in front
  c.append([fresh(ARENA_CHUNK, 2)], [fresh(ARENA_CHUNK, 2)], ARENA_CHUNK);
  // room for three more steps of this width, in whole chunks: 2 + 32 + 3 * 32 = 130 -> 5 chunks
  // (more than a quarter over the old 32)
  const grown = Math.ceil((2 + 4 * ARENA_CHUNK) / ARENA_CHUNK) * ARENA_CHUNK;
  assertEquals(c.capacity, grown);
  assertEquals(c.keys[0][grown * 2], 10); // row 1 now starts at `grown` slots
  assertEquals(c.keys[0][(ARENA_CHUNK + 1) * 2], 10 * 0 + 2 + ARENA_CHUNK - 1);
  c.truncate(3);
  assertEquals(c.length, 3);
  assertThrows(() => c.truncate(4), RangeError);
});

/** Step a model through a schedule's first steps; returns every step's logits. */
async function run(
  model: ARModel,
  cache: KVCache,
  steps: number,
  from = 0,
): Promise<Float32Array[]> {
  const m = model.manifest;
  const grid = makeGrid(m.grid.height, m.grid.width);
  const schedule = scheduleByName(grid, "par4");
  const slots = stepSlots(schedule);
  const tokens = new Int32Array(64).map((_, i) => (i * 7) % m.vocabSize);
  const out: Float32Array[] = [];
  for (let s = from; s < from + steps; s++) {
    const inputs = buildStepInputs(
      m,
      slots[s],
      schedule.steps[s].attention,
      [0, null],
      tokens,
      64,
      [0, 0],
      cache.length,
    );
    out.push((await model.step(cache, inputs)).logits.slice());
  }
  return out;
}

Deno.test("arena: a truncated cache replays the same logits as a fresh one", async () => {
  const model = await loadOnnxModel(MICRO, { threads: 1 });
  try {
    const a = model.newCache(2);
    assert(a instanceof ArenaCache, "a fused graph with new.* outputs gets the arena cache");
    const first = await run(model, a, 6);
    const kept = a.length;
    await run(model, a, 2, 6); // steps 6 and 7, then roll them back
    model.truncate(a, kept);
    const again = await run(model, a, 2, 6);
    const b = model.newCache(2);
    const fresh = await run(model, b, 8);
    assertEquals(first.length, 6);
    for (let k = 0; k < 2; k++) assertEquals(again[k], fresh[6 + k]);
  } finally {
    await model.dispose();
  }
});

Deno.test("draw: NaN, +Infinity and all -Infinity logits throw; finite ones draw", () => {
  const d = new TokenDrawer(4);
  const opts = { temperature: 1, topK: 0, topP: 1 };
  for (
    const bad of [[0, NaN, 1, 2], [0, Infinity, 1, 2], [-Infinity, -Infinity, -Infinity, -Infinity]]
  ) {
    assertThrows(() => d.draw(Float32Array.from(bad), null, 1, opts, 0.5), NonFiniteLogitsError);
  }
  assertEquals(d.draw(Float32Array.from([0, -Infinity, 5, 0]), null, 1, opts, 0.5), 2);
});

Deno.test("sample: NaN logits at a late step are an error naming the step", async () => {
  const inner = await loadOnnxModel(MICRO, { threads: 1 });
  let steps = 0;
  const broken: ARModel = {
    manifest: inner.manifest,
    source: inner.source,
    backend: inner.backend,
    backendName: inner.backendName,
    newCache: (b) => inner.newCache(b),
    truncate: (c, n) => inner.truncate(c, n),
    dispose: () => inner.dispose(),
    async step(cache: KVCache, inputs: StepInputs): Promise<StepOutput> {
      const out = await inner.step(cache, inputs);
      if (steps++ === 5) out.logits[3] = NaN;
      return out;
    },
  };
  try {
    const schedule = scheduleByName(makeGrid(8, 8), "par4");
    const err = await sample(broken, { schedule, classes: [0] }).then(() => null, (e) => e);
    assert(err instanceof ManifestError, `expected a ManifestError, got ${err}`);
    assert(String(err.message).includes("step 5 (image 0, slot 0)"), err.message);
  } finally {
    await inner.dispose();
  }
});
