import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { makeGrid } from "../src/media/mod.ts";
import { loadOnnxModel } from "../src/model/mod.ts";
import {
  functionModel,
  type FunctionQuery,
  PairingError,
  sample,
  SampleOptionsError,
  sampleZipAR,
  type ZipARSlot,
} from "../src/sampler/mod.ts";
import { par, raster, scheduleByName, stepOfCell, zipar } from "../src/schedule/mod.ts";
import { ConfigError, Rng } from "../src/util/mod.ts";

const models = new URL("../fixtures/models/", import.meta.url);
const small = makeGrid(4, 6);

/** Logits that depend on the class and on every earlier cell the query sees (-1: unseen). */
function hashed(V: number, seed = 1, scale = 3) {
  return ({ cell, context, classIndex }: FunctionQuery): number[] => {
    let h = (seed * 1000003 + cell * 7919 + (classIndex ?? 97) * 31) >>> 0;
    for (let k = 0; k < cell; k++) h = Math.imul(h ^ (context[k] + 2), 0x9e3779b1) >>> 0;
    const rng = new Rng(h);
    return Array.from({ length: V }, () => scale * rng.next());
  };
}

Deno.test("zipar schedule: the cells of every step on 4x6 with window 2, by hand", () => {
  const s = zipar(small, { window: 2 });
  // Row r starts at step 2r; cell (r, c) at step 2r + c; (4 - 1) * 2 + 6 = 12 steps.
  assertEquals(s.steps.map((step) => step.cells), [
    [0],
    [1],
    [2, 6],
    [3, 7],
    [4, 8, 12],
    [5, 9, 13],
    [10, 14, 18],
    [11, 15, 19],
    [16, 20],
    [17, 21],
    [22],
    [23],
  ]);
  assertEquals(s.name, "zipar2");
  assertEquals(Array.from(stepOfCell(s)).slice(6, 12), [2, 3, 4, 5, 6, 7]);
  assertEquals(scheduleByName(small, "zipar2"), s);
  // (R - 1) * window + W steps on 24x24; window W is raster order.
  const grid = makeGrid(24, 24);
  const counts = [1, 2, 4, 8, 24].map((w) => zipar(grid, { window: w }).steps.length);
  assertEquals(counts, [47, 70, 116, 208, 576]);
  assertEquals(zipar(grid, { window: 24 }).steps, raster(grid).steps);
  // A video's rows are the F*H rows of its raster order.
  assertEquals(zipar(makeGrid(2, 3, 2), { window: 1 }).steps.length, 3 * 1 + 3);
});

Deno.test("zipar windows outside 1..W are one ConfigError naming the fix", () => {
  const big = assertThrows(() => zipar(small, { window: 7 }), ConfigError, "larger than");
  assertEquals(
    big.message,
    "window: 7 is larger than the 6-token rows of the 4x6 grid. Fix: choose a window of 1..6 " +
      "tokens (6 is raster order).",
  );
  assertThrows(() => zipar(small, { window: 0 }), ConfigError, "0 is below 1");
  assertThrows(() => zipar(small, { window: 1.5 }), ConfigError, "must be an integer");
  assertThrows(() => scheduleByName(small, "zipar9"), ConfigError, "choose a window of 1..6");
});

Deno.test("sampleZipAR feeds predecessors, stand-ins and KV-only slots; masks are raster-causal", async () => {
  const seen = new Map<string, number[]>(); // "call:cell" -> positions the query sees
  const base = hashed(5);
  const model = functionModel({
    vocab: 5,
    classes: 2,
    grid: small,
    logits: (q) => {
      if (q.row === 0) {
        const visible = [...q.context].flatMap((t, pos) => (t >= 0 ? [pos] : []));
        seen.set(`${model.calls}:${q.cell}`, visible);
      }
      return base(q);
    },
  });
  const out = await sampleZipAR(model, { classes: [1], window: 2, seed: 3 });
  assertEquals(out.zipar.modelCalls, 12);
  assertEquals(model.calls, 12);
  assertEquals(
    out.trace.map((t) => t.cells),
    zipar(small, { window: 2 }).steps.map((s) => s.cells),
  );
  const slot = (kind: ZipARSlot["kind"], token: number, position: number, predicts: number) => ({
    kind,
    token,
    position,
    predicts,
  });
  assertEquals(out.zipar.steps[0].slots, [slot("class", -1, -1, 0)]);
  // Row 1 starts at call 2: a stand-in holds cell 1's token (row 0's newest) at the position of
  // (0, 5), the raster predecessor of cell 6.
  assertEquals(out.zipar.steps[2].slots, [slot("cell", 1, 1, 2), slot("stand-in", 1, 5, 6)]);
  assertEquals(out.zipar.steps[4].slots, [
    slot("cell", 3, 3, 4),
    slot("cell", 7, 7, 8),
    slot("stand-in", 7, 11, 12),
  ]);
  // Call 6: cell 5 ends row 0; cell 6 is sampled already, so its slot only fills the cache.
  assertEquals(out.zipar.steps[6].slots, [
    slot("cell", 5, 5, -1),
    slot("cell", 9, 9, 10),
    slot("cell", 13, 13, 14),
    slot("stand-in", 13, 17, 18),
  ]);
  assertEquals(out.zipar.steps[11].slots, [slot("cell", 22, 22, 23)]);
  // Contexts: every sampled cell before the query's position (this call's included), never a
  // stand-in except the query's own slot.
  assertEquals(seen.get("4:12"), [0, 1, 2, 3, 6, 7, 11]);
  assertEquals(seen.get("6:10"), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals(seen.get("6:14"), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13]);
  assertEquals(seen.get("6:18"), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 17]);
  assertEquals(seen.get("7:12"), undefined); // cell 12 is predicted once
  assertEquals(Array.from(out.zipar.rowWindows), [0, 2, 2, 2]);
});

Deno.test("sampleZipAR with window W is raster sampling, token for token", async () => {
  const model = functionModel({ vocab: 7, classes: 3, grid: small, logits: hashed(7, 5) });
  for (const cfgScale of [1, 2]) {
    const z = await sampleZipAR(model, { classes: [0, 2], window: 6, seed: 11, cfgScale });
    const r = await sample(model, { schedule: raster(small), classes: [0, 2], seed: 11, cfgScale });
    assertEquals(z.tokens, r.tokens);
    assertEquals(z.zipar.modelCalls, 24);
    assert(z.zipar.steps.every((s) => s.slots.every((x) => x.kind !== "stand-in")), "stand-in");
  }
  // The guidance interval reads the same under both rules.
  for (const cfgIntervalRule of ["steps", "official"] as const) {
    const opts = { classes: [0, 2], seed: 12, cfgScale: 2, cfgInterval: 3, cfgIntervalRule };
    const z = await sampleZipAR(model, { ...opts, window: 6 });
    const r = await sample(model, { ...opts, schedule: raster(small) });
    assertEquals(z.tokens, r.tokens);
  }
  // Explicit uniforms replay a fixed window exactly.
  const u = new Rng(4).uniforms(2 * 24);
  const a = await sampleZipAR(model, { classes: [1, 1], window: 3, uniforms: u });
  const b = await sampleZipAR(model, { classes: [1, 1], window: 3, uniforms: u.slice() });
  assertEquals(a.tokens, b.tokens);
});

Deno.test("adaptive ZipAR: a first cell the row above does not change starts at minWindow + 1", async () => {
  // Column 0's logits ignore the row above, so every draft passes its test (p = q).
  const base = hashed(4, 9);
  const free = functionModel({
    vocab: 4,
    classes: 1,
    grid: small,
    logits: (q) => (q.cell % 6 === 0 ? [1, 0.5, 0, 2] : base(q)),
  });
  const out = await sampleZipAR(free, { classes: [0, 0], window: 4, adaptive: { minWindow: 1 } });
  assertEquals(Array.from(out.zipar.rowWindows), [0, 2, 2, 2, 0, 2, 2, 2]);
  assertEquals(out.zipar.modelCalls, 3 * 2 + 6);
  assertEquals(out.zipar.schedules[0].steps, zipar(small, { window: 2 }).steps);
  // A first cell that copies the newest token above is re-tested as the row grows.
  const copy = functionModel({
    vocab: 4,
    classes: 1,
    grid: small,
    logits: (q) => {
      if (q.cell % 6 !== 0 || q.cell === 0) return base(q);
      let newest = 0;
      for (let k = q.cell - 6; k < q.cell; k++) if (q.context[k] >= 0) newest = q.context[k];
      return [0, 1, 2, 3].map((v) => (v === newest ? 4 : 0));
    },
  });
  const runs = await sampleZipAR(copy, {
    classes: [0, 0, 0, 0],
    window: 5,
    adaptive: true,
    seed: 2,
  });
  const windows = Array.from(runs.zipar.rowWindows).filter((_, i) => i % 4 !== 0);
  assert(windows.every((w) => w >= 2 && w <= 5), `windows ${windows}`);
  assert(windows.some((w) => w > 2), `no draft was ever rejected: ${windows}`);
  for (const s of runs.zipar.schedules) assertEquals(s.steps.flatMap((x) => x.cells).length, 24);
  const again = await sampleZipAR(copy, {
    classes: [0, 0, 0, 0],
    window: 5,
    adaptive: true,
    seed: 2,
  });
  assertEquals(again.tokens, runs.tokens);
});

Deno.test("sampleZipAR: bad settings are one message naming the fix", async () => {
  const model = functionModel({ vocab: 3, classes: 2, grid: small, logits: hashed(3) });
  await assertRejects(
    () => sampleZipAR(model, { classes: [0], window: 7 }),
    ConfigError,
    "window: 7 is larger than the 6-token rows",
  );
  await assertRejects(() => sampleZipAR(model, { classes: [0], window: 0 }), ConfigError, "Fix:");
  await assertRejects(
    () => sampleZipAR(model, { classes: [0], window: 3, adaptive: { minWindow: 3 } }),
    SampleOptionsError,
    "adaptive.minWindow: 3 is not below window 3",
  );
  await assertRejects(
    () =>
      sampleZipAR(model, {
        classes: [0],
        window: 3,
        adaptive: true,
        uniforms: new Float64Array(24),
      }),
    SampleOptionsError,
    "run-dependent number of uniforms",
  );
  await assertRejects(
    () => sampleZipAR(model, { classes: [0], window: 3, uniforms: new Float64Array(5) }),
    SampleOptionsError,
    "needs images x cells = 24",
  );
  await assertRejects(
    () => sampleZipAR(model, { classes: [2], window: 3 }),
    SampleOptionsError,
    "class 2 is out of range",
  );
  const parModel = functionModel({
    vocab: 3,
    classes: 2,
    grid: makeGrid(4, 4),
    logits: hashed(3),
    schedule: par(makeGrid(4, 4), { m: 2 }),
  });
  const refused = await assertRejects(
    () => sampleZipAR(parModel, { classes: [0], window: 2 }),
    PairingError,
    'trained for schedule "par4", not raster order',
  );
  assert(refused.message.includes("Fix: use a raster-trained model"), refused.message);
  const unknown = functionModel({
    vocab: 3,
    classes: 2,
    grid: small,
    logits: hashed(3),
    schedule: null,
  });
  const warnings: string[] = [];
  await sampleZipAR(unknown, { classes: [0], window: 2, onWarning: (w) => warnings.push(w) });
  assertEquals(warnings.length, 1);
  assert(warnings[0].includes("assumes it was trained in raster order"), warnings[0]);
});

Deno.test("sampleZipAR on tiny-raster: the implied steps, window 24 = raster, adaptive runs", async () => {
  const model = await loadOnnxModel(new URL("tiny-raster.json", models));
  const par4 = await loadOnnxModel(new URL("tiny-par4.json", models));
  try {
    const grid = makeGrid(24, 24);
    const out = await sampleZipAR(model, { classes: [2], window: 8, cfgScale: 2, seed: 1 });
    assertEquals(out.zipar.modelCalls, 208);
    assertEquals(
      out.trace.map((t) => t.cells),
      zipar(grid, { window: 8 }).steps.map((s) => s.cells),
    );
    assert(out.tokens.every((t) => t >= 0 && t < 1024), "token out of range");
    const z = await sampleZipAR(model, { classes: [4], window: 24, seed: 6 });
    const r = await sample(model, { schedule: raster(grid), classes: [4], seed: 6 });
    assertEquals(z.tokens, r.tokens);
    const a = await sampleZipAR(model, {
      classes: [0],
      window: 8,
      adaptive: { minWindow: 4 },
      cfgScale: 2,
      seed: 1,
    });
    assert(a.zipar.modelCalls >= 23 * 5 + 24 && a.zipar.modelCalls <= 208, `${a.zipar.modelCalls}`);
    await assertRejects(
      () => sampleZipAR(par4, { classes: [0], window: 8 }),
      PairingError,
      'model "tiny-par4" was trained for schedule "par4"',
    );
  } finally {
    await model.dispose();
    await par4.dispose();
  }
});
