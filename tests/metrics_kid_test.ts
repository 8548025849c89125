/**
 * Kernel distance (KID): a case by hand, full-set subsets, same vs shifted distributions, seeds,
 * and the cached and uncached kernel paths agreeing.
 */
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "./assert.ts";
import { gaussianSet, uniformSet } from "./metrics_helpers.ts";
import { kernelDistance, unbiasedMmd2 } from "../src/metrics/mod.ts";

Deno.test("unbiased MMD^2 by hand: k(x,y) = (xy + 1)^3 on {0,1} vs {1,2} is 9.5", () => {
  // k(0,1) = 1, k(1,2) = 27, cross terms k(0,1)+k(0,2)+k(1,1)+k(1,2) = 1+1+8+27 = 37:
  // (2*1)/2 + (2*27)/2 - 2*37/4 = 1 + 27 - 18.5
  assertAlmostEquals(unbiasedMmd2(new Float64Array([0, 1]), new Float64Array([1, 2]), 2, 1), 9.5);
});

Deno.test("KID with subsets as large as the sets is the exact MMD^2 (std 0)", () => {
  const a = { n: 2, d: 1, data: new Float64Array([0, 1]) };
  const b = { n: 2, d: 1, data: new Float32Array([1, 2]) };
  const r = kernelDistance(a, b, { subsets: 5, subsetSize: 1000 });
  assertEquals(r.subsetSize, 2);
  assertEquals(r.subsets, 5);
  assertAlmostEquals(r.mean, 9.5, 1e-12);
  assertAlmostEquals(r.std, 0, 1e-12);
});

Deno.test("KID: ~0 for one distribution, clearly positive for a shifted one", () => {
  const d = 8;
  const cov = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => +(i === j)));
  const zero = new Array(d).fill(0);
  const a = gaussianSet(400, zero, cov, 1);
  const b = gaussianSet(400, zero, cov, 2);
  const c = gaussianSet(400, new Array(d).fill(0.5), cov, 3);
  const same = kernelDistance(a, b, { subsets: 20, subsetSize: 200, seed: 1 });
  const shifted = kernelDistance(a, c, { subsets: 20, subsetSize: 200, seed: 1 });
  assert(Math.abs(same.mean) < 0.05, `same-distribution KID ${same.mean}`);
  assert(shifted.mean > 0.3, `shifted KID ${shifted.mean}`);
  assert(shifted.mean > 10 * Math.abs(same.mean));
});

Deno.test("KID is seeded: same seed same answer, another seed another", () => {
  const a = uniformSet(120, 5, 1);
  const b = uniformSet(150, 5, 2);
  const r1 = kernelDistance(a, b, { subsets: 10, subsetSize: 50, seed: 3 });
  const r2 = kernelDistance(a, b, { subsets: 10, subsetSize: 50, seed: 3 });
  const r3 = kernelDistance(a, b, { subsets: 10, subsetSize: 50, seed: 4 });
  assertEquals(r1, r2);
  assert(r1.mean !== r3.mean);
});

Deno.test("KID: cached Gram matrices and per-subset kernels agree", () => {
  const a = uniformSet(90, 7, 5);
  const b = uniformSet(60, 7, 6);
  const options = { subsets: 6, subsetSize: 40, seed: 9 };
  const direct = kernelDistance(a, b, { ...options, cacheLimit: 0 });
  // Gram sizes: b-b 3600, a-b 5400, a-a 8100: cache none, one, two, all three
  for (const cacheLimit of [3600, 9000, 20000]) {
    const cached = kernelDistance(a, b, { ...options, cacheLimit });
    // the cache stores kernel values as float32 (relative rounding 6e-8)
    assertAlmostEquals(cached.mean, direct.mean, 1e-6 * Math.abs(direct.mean) + 1e-9);
    assertAlmostEquals(cached.std, direct.std, 1e-5 * direct.std + 1e-9);
  }
});

Deno.test("KID rejects bad input", () => {
  const a = uniformSet(10, 3, 1);
  assertThrows(() => kernelDistance(a, uniformSet(10, 4, 1)), RangeError, "dimensions differ");
  assertThrows(() => kernelDistance(a, uniformSet(1, 3, 1)), RangeError, "at least 2");
  assertThrows(() => kernelDistance(a, a, { subsets: 0 }), RangeError, "subsets");
  assertThrows(() => kernelDistance(a, a, { subsetSize: 1 }), RangeError, "subsetSize");
});
