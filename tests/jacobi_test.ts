import { assert, assertEquals, assertRejects } from "./assert.ts";
import { makeGrid } from "../src/media/mod.ts";
import { loadOnnxModel } from "../src/model/mod.ts";
import {
  acceptDraft,
  drawFromTable,
  drawResidual,
  functionModel,
  type FunctionQuery,
  PairingError,
  sample,
  sampleJacobi,
  SampleOptionsError,
  sampleZipAR,
  teacherForce,
  TokenDrawer,
} from "../src/sampler/mod.ts";
import { par, raster } from "../src/schedule/mod.ts";
import { Rng } from "../src/util/mod.ts";

const models = new URL("../fixtures/models/", import.meta.url);

/** The uniforms image b of a run seeded `seed` draws, as sampleJacobi's streams give them. */
function streamUniforms(seed: number, images: number, cells: number): Float64Array {
  const out = new Float64Array(images * cells);
  for (let b = 0; b < images; b++) {
    const rng = new Rng(seed).skip(b * 2 ** 32);
    for (let k = 0; k < cells; k++) out[b * cells + k] = rng.next();
  }
  return out;
}

Deno.test("TokenDrawer.probabilities is the distribution TokenDrawer draws from", () => {
  const V = 50;
  const rng = new Rng(3);
  const drawer = new TokenDrawer(V);
  const table = new TokenDrawer(V);
  const p = new Float64Array(V);
  for (
    const o of [
      { temperature: 1, topK: 0, topP: 1 },
      { temperature: 0.7, topK: 10, topP: 1 },
      { temperature: 1.3, topK: 0, topP: 0.8 },
      { temperature: 1, topK: 20, topP: 0.6 },
      { temperature: 1, topK: 1, topP: 1 },
    ]
  ) {
    for (const scale of [1, 2.5]) {
      const cond = Float32Array.from({ length: V }, () => 4 * rng.next());
      const uncond = scale === 1 ? null : Float32Array.from({ length: V }, () => 4 * rng.next());
      table.probabilities(cond, uncond, scale, o, p);
      const sum = p.reduce((a, x) => a + x, 0);
      assert(Math.abs(sum - 1) < 1e-12, `sums to ${sum}`);
      if (o.topK) assertEquals(p.filter((x) => x > 0).length <= o.topK, true);
      for (let i = 0; i < 400; i++) {
        const u = rng.next();
        assertEquals(drawFromTable(p, u), drawer.draw(cond, uncond, scale, o, u), `u ${u}`);
      }
    }
  }
});

Deno.test("accept-or-replace yields p exactly, for a sampled draft and for a given token", () => {
  const p = [0.5, 0.3, 0.2, 0];
  const q = Float64Array.from([0.1, 0.6, 0.2, 0.1]);
  const rng = new Rng(8);
  for (const proposal of [q, null] as const) {
    const counts = [0, 0, 0, 0];
    const N = 40000;
    for (let i = 0; i < N; i++) {
      const x = proposal ? drawFromTable(proposal, rng.next()) : 3; // a point mass on token 3
      const y = acceptDraft(p, proposal, x, rng.next())
        ? x
        : drawResidual(p, proposal, x, rng.next());
      counts[y]++;
    }
    const tv = counts.reduce((a, c, v) => a + Math.abs(c / N - p[v]), 0) / 2;
    assert(tv < 0.01, `total variation ${tv}`);
  }
  // A token p cannot produce is always rejected; the residual of a point mass is p without it.
  assertEquals(acceptDraft(p, null, 3, 0), false);
  assertEquals(drawResidual([0, 1, 0], null, 0, 0.5), 1);
});

/** A fixed random table of logits per (cell, prefix) on a tiny grid: a known joint. */
function tableModel(V: number, cells: number, seed: number, scale: number) {
  const rng = new Rng(seed);
  const tables = Array.from(
    { length: cells },
    (_, k) => Array.from({ length: V ** k * V }, () => scale * rng.next()),
  );
  const logitsOf = (cell: number, prefix: number[]) => {
    let index = 0;
    for (const t of prefix) index = index * V + t;
    return tables[cell].slice(index * V, index * V + V);
  };
  const joint = new Float64Array(V ** cells);
  for (let o = 0; o < joint.length; o++) {
    const x = Array.from({ length: cells }, (_, k) => Math.floor(o / V ** (cells - 1 - k)) % V);
    let pr = 1;
    for (let k = 0; k < cells; k++) {
      const l = logitsOf(k, x.slice(0, k));
      const z = l.reduce((a, v) => a + Math.exp(v), 0);
      pr *= Math.exp(l[x[k]]) / z;
    }
    joint[o] = pr;
  }
  const logits = ({ cell, context }: FunctionQuery) => {
    // Unseen cells (-1) read as token 0: a model fed a wrong context predicts wrongly.
    const prefix = Array.from(context.subarray(0, cell), (t) => Math.max(0, t));
    return logitsOf(cell, prefix);
  };
  return { joint, logits };
}

/** Chi-square statistic and total variation of sampled grids against a joint. */
function goodness(tokens: Int32Array, cells: number, V: number, joint: Float64Array) {
  const counts = new Float64Array(joint.length);
  const n = tokens.length / cells;
  for (let i = 0; i < n; i++) {
    let o = 0;
    for (let k = 0; k < cells; k++) o = o * V + tokens[i * cells + k];
    counts[o]++;
  }
  let chi2 = 0;
  let tv = 0;
  joint.forEach((p, o) => {
    chi2 += (counts[o] - n * p) ** 2 / (n * p);
    tv += Math.abs(counts[o] / n - p) / 2;
  });
  // Wilson-Hilferty: the chi-square quantile at upper tail 1e-4 (z = 3.719).
  const df = joint.length - 1;
  const limit = df * (1 - 2 / (9 * df) + 3.719 * Math.sqrt(2 / (9 * df))) ** 3;
  return { chi2, tv, limit };
}

Deno.test("SJD's samples have raster sampling's distribution (2x2 grid, V = 3, known joint)", async () => {
  const grid = makeGrid(2, 2);
  const { joint, logits } = tableModel(3, 4, 5, 2.5);
  const model = functionModel({ vocab: 3, classes: 1, grid, logits });
  const batches = 1200;
  const perBatch = 3; // the batch commits what all three accepted: the coupling is covered too
  const tokens = new Int32Array(batches * perBatch * 4);
  let calls = 0;
  let acceptedDrafts = 0;
  for (let i = 0; i < batches; i++) {
    const out = await sampleJacobi(model, {
      classes: new Array(perBatch).fill(0),
      draftLength: 3,
      seed: 17,
      imageOffset: i * perBatch,
    });
    tokens.set(out.tokens, i * perBatch * 4);
    calls += out.jacobi.modelCalls;
    acceptedDrafts += out.jacobi.acceptedDraft.reduce((a, x) => a + x, 0);
  }
  const sjd = goodness(tokens, 4, 3, joint);
  assert(sjd.chi2 < sjd.limit, `SJD: chi2 ${sjd.chi2.toFixed(1)} over ${sjd.limit.toFixed(1)}`);
  // Total variation of an exact sampler over 81 outcomes and 3600 grids is about 0.04-0.05.
  assert(sjd.tv < 0.07, `SJD: total variation ${sjd.tv}`);
  // The drafts did get accepted: fewer calls than cells, accepted drafts committed.
  assert(calls < batches * 4, `${calls} calls`);
  assert(acceptedDrafts > 0.1 * tokens.length, `${acceptedDrafts} accepted drafts`);
  // The test has the power to see a sampler that is not exact: ZipAR's window 1 predicts
  // cell (1, 0) before (0, 1) exists.
  const zipar = await sampleZipAR(model, { classes: new Array(3600).fill(0), window: 1, seed: 4 });
  const wrong = goodness(zipar.tokens, 4, 3, joint);
  assert(wrong.chi2 > 3 * wrong.limit, `ZipAR-1: chi2 ${wrong.chi2.toFixed(1)} is not far out`);
});

Deno.test("SJD with a deterministic model accepts whole drafts and yields the raster sample", async () => {
  const grid = makeGrid(4, 6);
  const V = 5;
  const oneHot = (v: number) => Array.from({ length: V }, (_, i) => (i === v ? 40 : 0));
  // The token of a cell depends on the cell and the class only. A call whose drafts all come
  // from the previous call's outputs (it follows a call that committed one cell) accepts every
  // draft; after a full acceptance SJD starts the next window from random tokens again.
  const positional = functionModel({
    vocab: V,
    classes: 3,
    grid,
    logits: ({ cell, classIndex }) => oneHot((cell * 3 + (classIndex ?? 0)) % V),
  });
  const out = await sampleJacobi(positional, { classes: [1, 2], draftLength: 5, seed: 2 });
  const ref = await sample(positional, { schedule: raster(grid), classes: [1, 2], seed: 9 });
  assertEquals(out.tokens, ref.tokens);
  const its = out.jacobi.iterations;
  let whole = 0;
  for (let i = 1; i < its.length; i++) {
    if (its[i - 1].committed !== 1) continue;
    assertEquals(its[i].committed, its[i].drafts + 1, `call ${i}`);
    assertEquals(Array.from(its[i].accepted), [its[i].drafts, its[i].drafts]);
    whole++;
  }
  assert(whole >= 3, `${whole} whole acceptances`);
  assert(out.jacobi.modelCalls <= 10, `${out.jacobi.modelCalls} calls`);
  // Each token a function of the one before: still the raster sample. (A draft computed after
  // a rejected draft is wrong here, so this chain commits one cell a call, as Jacobi would.)
  const chain = functionModel({
    vocab: V,
    classes: 3,
    grid,
    logits: ({ cell, context }) => oneHot(cell === 0 ? 2 : (context[cell - 1] * 2 + cell) % V),
  });
  const a = await sampleJacobi(chain, { classes: [0], draftLength: 6, draftInit: "left" });
  const b = await sample(chain, { schedule: raster(grid), classes: [0] });
  assertEquals(a.tokens, b.tokens);
  assert(a.jacobi.modelCalls <= 24, `${a.jacobi.modelCalls} calls`);
  // The trace adds up: every cell once, one trace entry per call.
  assertEquals(a.trace.flatMap((t) => t.cells), Array.from({ length: 24 }, (_, i) => i));
  assertEquals(a.schedule.steps.length, a.jacobi.modelCalls);
  assertEquals(chain.calls, a.jacobi.modelCalls + b.trace.length);
});

Deno.test("SJD with no drafts is raster sampling from the image's stream", async () => {
  const grid = makeGrid(3, 4);
  const { logits } = tableModelSparse();
  const model = functionModel({ vocab: 4, classes: 2, grid, logits });
  const out = await sampleJacobi(model, {
    classes: [0, 1],
    draftLength: 0,
    seed: 21,
    cfgScale: 1.5,
  });
  const ref = await sample(model, {
    schedule: raster(grid),
    classes: [0, 1],
    cfgScale: 1.5,
    uniforms: streamUniforms(21, 2, 12),
  });
  assertEquals(out.tokens, ref.tokens);
  assertEquals(out.jacobi.modelCalls, 12);
  // A guidance interval is read over the raster steps, under both rules.
  for (const cfgIntervalRule of ["steps", "official"] as const) {
    const opts = { classes: [1, 0], cfgScale: 2, cfgInterval: 4, cfgIntervalRule };
    const j = await sampleJacobi(model, { ...opts, draftLength: 0, seed: 5 });
    const r = await sample(model, {
      ...opts,
      schedule: raster(grid),
      uniforms: streamUniforms(5, 2, 12),
    });
    assertEquals(j.tokens, r.tokens);
  }
});

/** Logits from a hash of the cell, the class and the cells before it (V = 4). */
function tableModelSparse() {
  return {
    logits: ({ cell, context, classIndex }: FunctionQuery) => {
      let h = (cell * 7919 + (classIndex ?? 13) * 31) >>> 0;
      for (let k = 0; k < cell; k++) h = Math.imul(h ^ (context[k] + 2), 0x9e3779b1) >>> 0;
      const rng = new Rng(h);
      return Array.from({ length: 4 }, () => 3 * rng.next());
    },
  };
}

Deno.test("sampleJacobi: bad settings are one message naming the fix", async () => {
  const grid = makeGrid(2, 3);
  const { logits } = tableModelSparse();
  const model = functionModel({ vocab: 4, classes: 2, grid, logits });
  await assertRejects(
    () => sampleJacobi(model, { classes: [0], draftLength: -1 }),
    SampleOptionsError,
    "draftLength: -1 is not a number of draft tokens. Fix: pass 0..5",
  );
  await assertRejects(
    () => sampleJacobi(model, { classes: [0], draftLength: 6 }),
    SampleOptionsError,
    "draftLength: 6 drafts exceed the 5 cells after the first",
  );
  await assertRejects(
    // deno-lint-ignore no-explicit-any
    () => sampleJacobi(model, { classes: [0], draftLength: 2, draftInit: "zeros" as any }),
    SampleOptionsError,
    'Fix: pass "random" or "left"',
  );
  const noTruncate = { ...model, truncate: undefined } as unknown as typeof model;
  const missing = await assertRejects(
    () => sampleJacobi(noTruncate, { classes: [0], draftLength: 2 }),
    SampleOptionsError,
    "has no KV-cache truncation",
  );
  assert(missing.message.includes("Fix: load the model with a backend"), missing.message);
  const throwing = {
    ...model,
    truncate: () => {
      throw new Error("not supported here");
    },
  };
  await assertRejects(
    () => sampleJacobi(throwing, { classes: [0], draftLength: 2 }),
    SampleOptionsError,
    "cannot truncate its KV cache (not supported here)",
  );
  const parModel = functionModel({
    vocab: 4,
    classes: 2,
    grid: makeGrid(4, 4),
    logits,
    schedule: par(makeGrid(4, 4), { m: 2 }),
  });
  await assertRejects(
    () => sampleJacobi(parModel, { classes: [0] }),
    PairingError,
    "not raster order",
  );
});

Deno.test("SJD on tiny-raster: greedy equals raster greedy; sampled runs are replayable", async () => {
  // Greedy SJD rarely accepts a draft here: a draft is the previous call's output, computed
  // after the draft that call rejected. It must still give the raster tokens.
  const model = await loadOnnxModel(new URL("tiny-raster.json", models));
  try {
    const grid = makeGrid(24, 24);
    const greedy = await sampleJacobi(model, {
      classes: [3],
      draftLength: 7,
      topK: 1,
      cfgScale: 1,
    });
    const ref = await sample(model, { schedule: raster(grid), classes: [3], topK: 1, cfgScale: 1 });
    // Logits of a multi-slot call differ from a one-slot call's in the last bits: compare up to
    // the first cell whose top two logits are closer than 1e-4 (none is expected).
    const tf = await teacherForce(model, raster(grid), ref.tokens, [3], { keepLogits: true });
    let agree = 576;
    for (let c = 0; c < 576; c++) {
      const row = Array.from(tf.logits!.subarray(c * 1024, (c + 1) * 1024)).sort((x, y) => y - x);
      if (row[0] - row[1] < 1e-4) {
        agree = c;
        break;
      }
    }
    assertEquals(greedy.tokens.subarray(0, agree), ref.tokens.subarray(0, agree));
    assert(greedy.jacobi.modelCalls <= 576, `${greedy.jacobi.modelCalls} calls`);
    const a = await sampleJacobi(model, { classes: [5], draftLength: 4, cfgScale: 2, seed: 3 });
    const b = await sampleJacobi(model, { classes: [5], draftLength: 4, cfgScale: 2, seed: 3 });
    assertEquals(a.tokens, b.tokens);
    assertEquals(a.jacobi.modelCalls, b.jacobi.modelCalls);
    assert(a.jacobi.modelCalls < 500, `${a.jacobi.modelCalls} calls: drafts are accepted`);
    assert(a.tokens.every((t) => t >= 0 && t < 1024), "token out of range");
  } finally {
    await model.dispose();
  }
});
