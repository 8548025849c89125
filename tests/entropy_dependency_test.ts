import {
  combField,
  combFieldConditionalEntropy,
  conditionalEntropyMatrix,
  conditionalEntropyRow,
  ESTIMATORS,
  type EstimatorSpec,
  histogramStats,
  MI_ESTIMATORS,
  type MiEstimator,
  mutualInformationMatrix,
  pairwiseDependency,
  referenceDependency,
  type TokenSet,
} from "../src/entropy/mod.ts";
import { Rng } from "../src/util/rng.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "./assert.ts";

function independentTokens(n: number, h: number, w: number, k: number, seed: number): TokenSet {
  const rng = new Rng(seed);
  const tokens = new Uint16Array(n * h * w).map(() => rng.int(k));
  return { tokens, count: n, grid: { height: h, width: w }, vocabSize: k };
}

function offDiagonal(m: Float64Array, c: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) if (i !== j) out.push(m[i * c + j]);
  return out;
}

Deno.test("independent cells: plug-in shows the predicted bias, corrections give ~0 bits", async () => {
  const k = 16, n = 3000;
  const dep = await pairwiseDependency(independentTokens(n, 8, 8, k, 3), { workers: 0 });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  // Plug-in bias for independent uniform K-ary cells: (K-1)^2 / (2 N ln 2) = 0.0541 bits.
  const plugin = offDiagonal(dep.mutualInformation.plugin!, 64);
  assertAlmostEquals(mean(plugin), (k - 1) ** 2 / (2 * n * Math.LN2), 0.005);
  for (const est of ["miller-madow", "shuffle"] as const) {
    const v = offDiagonal(mutualInformationMatrix(dep, est), 64);
    assertAlmostEquals(mean(v), 0, 0.005, `${est} mean ${mean(v)}`);
    const worst = Math.max(...v.map(Math.abs));
    assert(worst < 0.04, `${est} worst pair ${worst} bits`);
  }
});

Deno.test("a copied cell has I = H (plug-in and Miller-Madow exactly; shuffle minus its baseline)", async () => {
  const ts = independentTokens(2000, 3, 3, 32, 7);
  const tokens = ts.tokens as Uint16Array;
  for (let r = 0; r < ts.count; r++) tokens[r * 9 + 8] = tokens[r * 9 + 0]; // cell 8 := cell 0
  const dep = await pairwiseDependency(ts, { workers: 0 });
  const c = 9;
  assertAlmostEquals(dep.mutualInformation.plugin![0 * c + 8], dep.entropy.plugin[0], 1e-9);
  assertAlmostEquals(
    dep.mutualInformation["miller-madow"]![8 * c + 0],
    dep.entropy["miller-madow"][8],
    1e-9,
  );
  assertEquals(dep.shuffleBaseline, dep.baseline.shuffle);
  // The shuffle estimator subtracts the independence baseline, ~ (K-1)^2 / (2 N ln 2) = 0.35
  // bits here, also from a copy: the documented underestimate of strong dependencies.
  const baseline = dep.shuffleBaseline![0 * c + 8];
  // (0.42 measured: with 1024 joint bins and 2000 samples higher-order terms add to it.)
  assertAlmostEquals(baseline, 31 ** 2 / (2 * 2000 * Math.LN2), 0.1);
  assertAlmostEquals(dep.mutualInformation.shuffle![0 * c + 8], dep.entropy.plugin[0] - baseline);
  // And the conditional entropy of the copy given its source is 0.
  for (const est of MI_ESTIMATORS) {
    const h = conditionalEntropyMatrix(dep, est);
    if (est !== "shuffle") assertAlmostEquals(h[0 * c + 8], 0, 1e-9);
  }
});

Deno.test("2D comb Markov field: conditional entropy matches the analytic value", async () => {
  const o = { height: 6, width: 6, vocabSize: 8, count: 20000, rhoH: 0.7, rhoV: 0.6, seed: 5 };
  const dep = await pairwiseDependency(combField(o), { workers: 0 });
  const c = 36;
  // Tolerance: one pair's estimate has a sampling sd of up to ~0.013 bits at N = 20000
  // (strongest links); 0.05 is ~4 sd. The mean absolute error must be far smaller.
  for (const est of MI_ESTIMATORS) {
    const h = conditionalEntropyMatrix(dep, est);
    let sum = 0;
    for (let i = 0; i < c; i++) {
      for (let j = 0; j < c; j++) {
        if (i === j) continue;
        const err = Math.abs(h[i * c + j] - combFieldConditionalEntropy(o, i, j));
        assert(err < 0.05, `${est}: H(X_${j} | X_${i}) off by ${err} bits`);
        sum += err;
      }
    }
    assert(sum / (c * (c - 1)) < 0.006, `${est}: mean error ${sum / (c * (c - 1))}`);
  }
});

Deno.test("reference rows equal the all-pairs rows; workers do not change results", async () => {
  const o = { height: 5, width: 5, vocabSize: 6, count: 800, rhoH: 0.8, rhoV: 0.5, seed: 1 };
  const ts = combField(o);
  const opts = { shuffleSeed: 4, shuffles: 2 };
  const onThread = await pairwiseDependency(ts, { ...opts, workers: 0 });
  const onWorkers = await pairwiseDependency(ts, { ...opts, workers: 2 });
  for (const est of MI_ESTIMATORS) {
    assertEquals(onWorkers.mutualInformation[est], onThread.mutualInformation[est]);
  }
  const refs = referenceDependency(ts, [0, 12, 24], opts);
  for (const r of refs.references) {
    for (const est of MI_ESTIMATORS) {
      const row = onThread.mutualInformation[est]!.slice(r.ref * 25, r.ref * 25 + 25);
      const got = r.mutualInformation[est]!;
      for (let j = 0; j < 25; j++) assertAlmostEquals(got[j], row[j], 1e-12);
    }
    assertEquals(r.conditionalEntropy.plugin![r.ref], 0);
  }
});

Deno.test("coarse-graining through a code map and per-row subsets", async () => {
  const ts = independentTokens(500, 2, 2, 8, 9);
  const codeMap = [0, 0, 0, 0, 1, 1, 1, 1];
  const dep = await pairwiseDependency(ts, { workers: 0, codeMap, shuffles: 0 });
  assertEquals(dep.alphabet, 2);
  assert(dep.entropy.plugin[0] <= 1 + 1e-12 && dep.entropy.plugin[0] > 0.95);
  assertEquals(dep.mutualInformation.shuffle, undefined);
  const sub = await pairwiseDependency(ts, { workers: 0, rows: [0, 1, 2, 3], shuffles: 0 });
  assertEquals(sub.rows, 4);
});

Deno.test("bad token sets fail with a message naming the field", () => {
  const ts = independentTokens(4, 2, 2, 8, 1);
  (ts.tokens as Uint16Array)[5] = 9;
  assertThrows(() => referenceDependency(ts, [0]), Error, `field "tokens" holds 9`);
  const short = { ...independentTokens(4, 2, 2, 8, 1), count: 5 };
  assertThrows(() => referenceDependency(short, [0]), Error, "expected count x cells");
  assertThrows(
    () => referenceDependency(independentTokens(4, 2, 2, 8, 1), [4]),
    Error,
    "outside the grid",
  );
  assertThrows(
    () => referenceDependency({ ...independentTokens(4, 2, 2, 8, 1), labels: [0] }, [0]),
    Error,
    `field "labels"`,
  );
});

Deno.test("every estimator of the table: listed, same MI on both paths, its own formula", async () => {
  // Generic over the table: a new entry is covered without touching this test.
  const names = Object.keys(ESTIMATORS) as MiEstimator[];
  assertEquals([...MI_ESTIMATORS], names);
  const k = 6, n = 400, c = 9;
  const ts = independentTokens(n, 3, 3, k, 11);
  const tokens = ts.tokens as Uint16Array;
  // Some dependency: cell 4 copies cell 0 in half the samples.
  for (let r = 0; r < n; r += 2) tokens[r * c + 4] = tokens[r * c];
  const opts = { shuffles: 2, shuffleSeed: 3 };
  const all = await pairwiseDependency(ts, { ...opts, workers: 0 });
  const refs = [0, 4, 8];
  const some = referenceDependency(ts, refs, opts);
  const column = (j: number) => Array.from({ length: n }, (_, r) => tokens[r * c + j]);
  const joint = (i: number, j: number) => column(i).map((a, r) => a * k + column(j)[r]);
  for (const name of names) {
    const spec: EstimatorSpec = ESTIMATORS[name];
    assert(spec.description.length > 0 && spec.bias.length > 0, `${name}: document it`);
    const mi = mutualInformationMatrix(all, name);
    const h = all.entropy[name];
    assertEquals(some.entropy[name], h);
    for (let j = 0; j < c; j++) {
      const own = (spec.marginal ?? spec.entropy)(histogramStats(column(j)));
      assertAlmostEquals(h[j], own, 1e-12, `${name}: H(X_${j})`);
      assertAlmostEquals(mi[j * c + j], own, 1e-12, `${name}: I(X_${j}; X_${j}) = H(X_${j})`);
    }
    for (const r of some.references) {
      const row = mi.slice(r.ref * c, (r.ref + 1) * c);
      const cond = conditionalEntropyRow(all, r.ref, name);
      for (let j = 0; j < c; j++) {
        assertAlmostEquals(r.mutualInformation[name]![j], row[j], 1e-12, `${name} ref ${r.ref}`);
        assertAlmostEquals(r.conditionalEntropy[name]![j], cond[j], 1e-12, `${name} ref ${r.ref}`);
      }
    }
    // The MI is the entry's entropy formula on the histograms, less its correction's baseline.
    const e = spec.entropy;
    for (const [i, j] of [[0, 4], [4, 0], [2, 7]]) {
      const plain = e(histogramStats(column(i))) + e(histogramStats(column(j))) -
        e(histogramStats(joint(i, j)));
      const baseline = spec.correction ? all.baseline[name]![i * c + j] : 0;
      assertAlmostEquals(mi[i * c + j], plain - baseline, 1e-9, `${name}: I(X_${i}; X_${j})`);
    }
  }
  // Without shuffles the corrected entries are absent, the others unchanged.
  const plain = await pairwiseDependency(ts, { workers: 0, shuffles: 0 });
  for (const name of names) {
    const spec: EstimatorSpec = ESTIMATORS[name];
    if (spec.correction) {
      assertEquals(plain.mutualInformation[name], undefined);
      assertThrows(() => mutualInformationMatrix(plain, name), Error, "shuffles >= 1");
    } else {
      assertEquals(plain.mutualInformation[name], all.mutualInformation[name]);
    }
  }
  assertThrows(
    () => mutualInformationMatrix(plain, "nope" as MiEstimator),
    Error,
    "the estimators are plugin, miller-madow, shuffle",
  );
});
