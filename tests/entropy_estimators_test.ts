import {
  type EntropyEstimator,
  entropyOfCodes,
  ESTIMATORS,
  type EstimatorSpec,
  histogramStats,
  millerMadowEntropy,
  pluginEntropy,
} from "../src/entropy/mod.ts";
import { nLogNIncrements } from "../src/entropy/estimators.ts";
import { assertAlmostEquals, assertEquals } from "./assert.ts";

Deno.test("plug-in entropy of a uniform sample is log2 K", () => {
  const codes = Array.from({ length: 64 }, (_, i) => i % 8);
  assertAlmostEquals(entropyOfCodes(codes), 3, 1e-12);
});

Deno.test("Miller-Madow adds (m - 1) / (2 N ln 2) to the plug-in value", () => {
  const codes = [0, 0, 1, 2, 2, 2, 3];
  const s = histogramStats(codes);
  assertEquals(s.support, 4);
  assertAlmostEquals(millerMadowEntropy(s) - pluginEntropy(s), 3 / (2 * 7 * Math.LN2), 1e-12);
});

Deno.test("empty and constant samples have zero plug-in entropy", () => {
  assertEquals(pluginEntropy({ n: 0, sumNLogN: 0, support: 0 }), 0);
  assertAlmostEquals(entropyOfCodes([5, 5, 5, 5]), 0, 1e-12);
});

Deno.test("n log n increments sum to c log2 c", () => {
  const g = nLogNIncrements(50);
  let acc = 0;
  for (let c = 0; c < 50; c++) acc += g[c];
  assertAlmostEquals(acc, 50 * Math.log2(50), 1e-9);
});

Deno.test("entropyOfCodes takes every table entry without a correction", () => {
  const codes = [0, 0, 1, 2, 2, 2, 3, 7, 7];
  const s = histogramStats(codes);
  for (const [name, spec] of Object.entries(ESTIMATORS) as [string, EstimatorSpec][]) {
    if (spec.correction) continue;
    assertEquals(entropyOfCodes(codes, name as EntropyEstimator), spec.entropy(s));
  }
  assertEquals(entropyOfCodes(codes, "miller-madow"), millerMadowEntropy(s));
});
