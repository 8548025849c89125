import {
  codebookClusters,
  combField,
  dependencyByClass,
  entropyIncrease,
  fromTeacherForcing,
  meanByDistance,
  meanByOffset,
  meanPerCell,
  mutualInformationMatrix,
  pairwiseDependency,
  scheduleCost,
} from "../src/entropy/mod.ts";
import { makeGrid, par, randomGroups, raster, rasterGroups } from "../src/schedule/mod.ts";
import { clusterCodebook } from "../src/tokenizer/mod.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "./assert.ts";

/** A matrix whose entry depends only on the offset: f(dy, dx) = 1 / (1 + |dy| + 2|dx|). */
function offsetMatrix(h: number, w: number): Float64Array {
  const c = h * w;
  const m = new Float64Array(c * c);
  for (let i = 0; i < c; i++) {
    for (let j = 0; j < c; j++) {
      const dy = Math.floor(j / w) - Math.floor(i / w);
      const dx = (j % w) - (i % w);
      m[i * c + j] = 1 / (1 + Math.abs(dy) + 2 * Math.abs(dx));
    }
  }
  return m;
}

Deno.test("mean by offset recovers an offset-only matrix and counts pairs", () => {
  const grid = { height: 4, width: 5 };
  const offs = meanByOffset(offsetMatrix(4, 5), grid);
  assertEquals(offs.length, 7 * 9 - 1); // every offset but (0, 0)
  for (const o of offs) {
    assertAlmostEquals(o.mean, 1 / (1 + Math.abs(o.dy) + 2 * Math.abs(o.dx)), 1e-12);
    assertEquals(o.pairs, (4 - Math.abs(o.dy)) * (5 - Math.abs(o.dx)));
  }
  const total = offs.reduce((a, o) => a + o.pairs, 0);
  assertEquals(total, 20 * 19);
});

Deno.test("mean by distance groups exact and binned distances", () => {
  const grid = { height: 3, width: 3 };
  const c = 9;
  const m = new Float64Array(c * c).fill(2);
  const exact = meanByDistance(m, grid);
  assertEquals(exact.map((d) => Number(d.distance.toFixed(3))), [1, 1.414, 2, 2.236, 2.828]);
  assertEquals(exact.reduce((a, d) => a + d.pairs, 0), 72);
  for (const d of exact) assertEquals(d.mean, 2);
  const binned = meanByDistance(m, grid, { binWidth: 1 });
  assertEquals(binned.map((d) => d.distance), [1, 2, 3]);
  assertThrows(() => meanByDistance(new Float64Array(5), grid), Error, "pair matrix");
});

Deno.test("schedule cost: hand example and PAR << raster groups on a local field", async () => {
  const grid = makeGrid(2, 2);
  const mi = new Float64Array(16);
  const set = (a: number, b: number, v: number) => (mi[a * 4 + b] = mi[b * 4 + a] = v);
  set(0, 1, 1);
  set(2, 3, 0.5);
  set(0, 3, 0.25);
  const s = { name: "two", grid, steps: [{ cells: [0, 1, 3] }, { cells: [2] }] };
  const cost = scheduleCost(s, mi);
  assertAlmostEquals(cost.total, 1.25, 1e-12);
  assertEquals(Array.from(cost.perStep), [1.25, 0]);
  assertEquals(Array.from(cost.perCell), [1.25, 1, 0, 0.25]);
  assertEquals(cost.pairs, 3);
  assertEquals(scheduleCost(raster(grid), mi).total, 0);
  assertThrows(() => scheduleCost(s, new Float64Array(9)), Error, "expected 4 x 4");

  const g = makeGrid(8, 8);
  const ts = combField({
    height: 8,
    width: 8,
    vocabSize: 8,
    count: 1500,
    rhoH: 0.8,
    rhoV: 0.8,
    seed: 2,
  });
  const dep = await pairwiseDependency(ts, { workers: 0 });
  const m = mutualInformationMatrix(dep, "shuffle");
  const parCost = scheduleCost(par(g, { m: 2 }), m).total;
  const groupsCost = scheduleCost(rasterGroups(g, { n: 4 }), m).total;
  const randomCost = scheduleCost(randomGroups(g, { n: 4, seed: 1 }), m).total;
  assert(groupsCost > 4 * parCost, `raster groups ${groupsCost} vs PAR ${parCost}`);
  assert(randomCost < groupsCost, `random ${randomCost} vs raster groups ${groupsCost}`);
});

Deno.test("entropy increase: per-cell means, paired standard error, per-step means", () => {
  const grid = makeGrid(1, 2);
  // Two grids: base entropies [1, 2] and [3, 2]; other adds 0.5 and 1.5 to cell 0.
  const base = { label: "seq", grid, entropy: [1, 2, 3, 2] };
  const other = { label: "par", grid, entropy: [1.5, 2, 4.5, 2], schedule: raster(grid) };
  const inc = entropyIncrease(base, other);
  assertEquals(Array.from(inc.increase), [1, 0]);
  assertAlmostEquals(inc.meanIncrease, 0.5);
  // Paired differences at cell 0: 0.5 and 1.5 -> sd 0.7071, se 0.5.
  assertAlmostEquals(inc.standardError![0], 0.5, 1e-12);
  assertEquals(Array.from(inc.byStep!), [1, 0]);
  assertEquals(inc.labels, { base: "seq", other: "par" });
  // nats are converted; means-only inputs work; missing quantity and NaN fail clearly.
  assertAlmostEquals(meanPerCell([Math.LN2, 0], 2, "nats")[0], 1, 1e-12);
  const means = entropyIncrease({ grid, nll: [1, 1] }, { grid, nll: [2, 1] }, { quantity: "nll" });
  assertEquals(Array.from(means.increase), [1, 0]);
  assertEquals(means.standardError, undefined);
  assertThrows(() => entropyIncrease(base, { grid, nll: [1, 1] }), Error, `no "entropy"`);
  assertThrows(() => entropyIncrease(base, { grid, entropy: [NaN, 1] }), Error, "finite");
  assertThrows(() => entropyIncrease(base, { grid, entropy: [1, 1, 1] }), Error, "expected 2");
  // The teacher-forcing adapter turns NLL nats into bits.
  const tf = fromTeacherForcing({ nll: [Math.LN2, 0], entropyBits: [1, 1] }, raster(grid));
  assertAlmostEquals((tf.nll as Float64Array)[0], 1, 1e-12);
  assertEquals(tf.label, "raster");
});

Deno.test("codebook clusters: seeded, dense, and coarse vectors stay together", () => {
  // Two tight blobs of 4-d vectors.
  const k = 40;
  const book = new Float32Array(k * 4);
  for (let i = 0; i < k; i++) {
    for (let d = 0; d < 4; d++) book[i * 4 + d] = (i < 20 ? 0 : 200) + (i % 5);
  }
  const a = codebookClusters(book, k, 4, 2, 3);
  const b = codebookClusters(book, k, 4, 2, 3);
  assertEquals(a, b);
  assertEquals(a.groups, 2);
  // The tokenizer's codebook clustering with 50 Lloyd iterations; ids dense from code 0.
  assertEquals(a, clusterCodebook(book, 4, { groups: 2, iterations: 50, seed: 3 }));
  assertEquals([a.codeMap[0], a.codeMap[20]], [0, 1]);
  for (let i = 1; i < 20; i++) assertEquals(a.codeMap[i], a.codeMap[0]);
  for (let i = 21; i < 40; i++) assertEquals(a.codeMap[i], a.codeMap[20]);
  assert(a.codeMap[0] !== a.codeMap[20]);
  assertThrows(() => codebookClusters(book, k, 3, 2), Error, "expected vocabSize x dim");
  assertThrows(() => codebookClusters(book, k, 4, 0), Error, "groups must be");
});

Deno.test("per-class dependency skips small classes and names classes", async () => {
  const ts = combField({
    height: 3,
    width: 3,
    vocabSize: 4,
    count: 300,
    rhoH: 0.5,
    rhoV: 0.5,
    seed: 1,
  });
  const labels = new Uint8Array(300).map((_, i) => (i < 250 ? 0 : 1));
  const out = await dependencyByClass(
    { ...ts, labels, classNames: ["big", "small"] },
    { workers: 0, minRows: 100, shuffles: 0 },
  );
  assertEquals(out.map((c) => [c.label, c.name, c.dependency.rows]), [[0, "big", 250]]);
});
