/**
 * Token-pair statistics: counts by hand, Jensen–Shannon known answers (identical 0, disjoint
 * 1 bit, a hand-computed case), coarse-graining, and the local breakage of sampling neighbours
 * independently (the failure of naive parallel decoding) showing up in the horizontal pairs.
 */
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "./assert.ts";
import { Rng } from "../src/util/rng.ts";
import {
  coarseCodeMap,
  HORIZONTAL,
  jensenShannonBits,
  pairHistogram,
  tokenPairDivergence,
  VERTICAL,
} from "../src/metrics/mod.ts";
import { clusterCodebook } from "../src/tokenizer/mod.ts";

const grid = (n: number, h: number, w: number, tokens: number[]) => ({
  n,
  height: h,
  width: w,
  tokens: Uint16Array.from(tokens),
});

Deno.test("pair histogram of a 2x3 grid by hand", () => {
  const g = grid(1, 2, 3, [0, 1, 2, 3, 4, 5]);
  const h = pairHistogram(g, HORIZONTAL, { vocabSize: 6 });
  assertEquals(h.total, 4);
  assertEquals([...h.counts.keys()].sort((a, b) => a - b), [
    0 * 6 + 1,
    1 * 6 + 2,
    3 * 6 + 4,
    4 * 6 + 5,
  ]);
  const v = pairHistogram(g, VERTICAL, { vocabSize: 6 });
  assertEquals(v.total, 3);
  assertEquals([...v.counts.keys()].sort((a, b) => a - b), [0 * 6 + 3, 1 * 6 + 4, 2 * 6 + 5]);
  const diag = pairHistogram(g, { dy: 1, dx: -1 }, { vocabSize: 6 });
  assertEquals([...diag.counts.keys()].sort((a, b) => a - b), [1 * 6 + 3, 2 * 6 + 4]);
  // totals over a batch: n * H * (W - 1) and n * (H - 1) * W
  const big = grid(3, 4, 5, new Array(60).fill(1));
  assertEquals(pairHistogram(big, HORIZONTAL, { vocabSize: 2 }).total, 3 * 4 * 4);
  assertEquals(pairHistogram(big, VERTICAL, { vocabSize: 2 }).counts.get(1 * 2 + 1), 3 * 3 * 5);
});

Deno.test("Jensen–Shannon: identical 0, disjoint 1 bit, a case by hand", () => {
  const p = new Map([[3, 2], [7, 5], [9, 1]]);
  assertAlmostEquals(jensenShannonBits(p, new Map([[3, 4], [7, 10], [9, 2]])), 0, 1e-15);
  assertEquals(jensenShannonBits(new Map([[0, 5]]), new Map([[1, 2], [2, 2]])), 1);
  // P = {a: 1}, Q = {a: 1/2, b: 1/2}: JS = H(M) - (H(P) + H(Q)) / 2 with M = {3/4, 1/4}
  const hm = -(0.75 * Math.log2(0.75) + 0.25 * Math.log2(0.25));
  assertAlmostEquals(
    jensenShannonBits(new Map([[0, 1]]), new Map([[0, 1], [1, 1]])),
    hm - 0.5,
    1e-15,
  );
  assertThrows(() => jensenShannonBits(new Map(), p), RangeError, "positive total");
});

Deno.test("token pair divergence: identical grids 0, disjoint codes 1 bit", () => {
  const rng = new Rng(1);
  const tokens = Array.from({ length: 4 * 6 * 6 }, () => rng.int(8));
  const a = grid(4, 6, 6, tokens);
  const same = tokenPairDivergence(a, grid(4, 6, 6, [...tokens]), { vocabSize: 16 });
  assertEquals([same.horizontal, same.vertical], [0, 0]);
  const other = grid(4, 6, 6, tokens.map((t) => t + 8));
  const apart = tokenPairDivergence(a, other, {
    vocabSize: 16,
    extraOffsets: [{ dy: 1, dx: 1 }, HORIZONTAL],
  });
  assertEquals([apart.horizontal, apart.vertical], [1, 1]);
  assertEquals(apart.perOffset.map((o) => [o.dy, o.dx, o.js]), [[0, 1, 1], [1, 0, 1], [1, 1, 1]]);
  assertEquals(apart.perOffset[0].generatedPairs, 4 * 6 * 5);
  // Precomputed real histograms give the same answer.
  const pre = [HORIZONTAL, VERTICAL].map((o) => pairHistogram(other, o, { vocabSize: 16 }));
  assertEquals(tokenPairDivergence(a, pre, { vocabSize: 16 }).horizontal, 1);
});

Deno.test("coarse-graining merges codes before counting", () => {
  // codes {0,1} vs {2,3}: disjoint raw, identical after mapping 0,2 -> 0 and 1,3 -> 1
  const a = grid(1, 2, 2, [0, 1, 1, 0]);
  const b = grid(1, 2, 2, [2, 3, 3, 2]);
  assertEquals(tokenPairDivergence(a, b, { vocabSize: 4 }).horizontal, 1);
  const coarse = tokenPairDivergence(a, b, { vocabSize: 4, codeMap: [0, 1, 0, 1] });
  assertEquals([coarse.horizontal, coarse.vertical], [0, 0]);
  // a codebook of two well separated colour groups -> two groups
  const codebook = [0, 0, 0, 250, 250, 250, 5, 5, 5, 245, 245, 245];
  const map = coarseCodeMap(codebook, 3, 2, 0);
  assertEquals(map[0], map[2]);
  assertEquals(map[1], map[3]);
  assert(map[0] !== map[1]);
  // It is the tokenizer's codebook clustering with 30 Lloyd iterations (ids dense, code 0 -> 0).
  assertEquals(map, clusterCodebook(codebook, 3, { groups: 2, iterations: 30, seed: 0 }).codeMap);
  assertEquals(Array.from(map), [0, 1, 0, 1]);
  assertThrows(
    () => tokenPairDivergence(a, b, { vocabSize: 4, codeMap: [0, 1] }),
    RangeError,
    "codeMap",
  );
});

/**
 * A toy image process with strong local structure: each cell copies its left neighbour
 * (probability 0.6) or the one above (0.3), else takes a random code. `groups` > 1 imitates
 * naive raster-group decoding: inside a group of that many consecutive cells of a row, a cell
 * cannot see its left neighbour (same step) and copies the one above or draws at random.
 */
function toyGrids(n: number, size: number, k: number, groups: number, seed: number) {
  const rng = new Rng(seed);
  const tokens = new Uint16Array(n * size * size);
  for (let g = 0; g < n; g++) {
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) {
        const i = (g * size + r) * size + c;
        const leftVisible = c > 0 && c % groups === 0 || (groups === 1 && c > 0);
        const u = rng.next();
        if (leftVisible && u < 0.6) tokens[i] = tokens[i - 1];
        else if (r > 0 && u < 0.9) tokens[i] = tokens[i - size];
        else tokens[i] = rng.int(k);
      }
    }
  }
  return { n, height: size, width: size, tokens };
}

Deno.test("sampling neighbours in one step breaks horizontal pairs, not vertical ones", () => {
  const real = toyGrids(200, 12, 16, 1, 1);
  const fresh = toyGrids(200, 12, 16, 1, 2); // another sample of the same process: the floor
  const broken = toyGrids(200, 12, 16, 4, 3); // rows decoded in groups of 4
  const floor = tokenPairDivergence(fresh, real, { vocabSize: 16 });
  const naive = tokenPairDivergence(broken, real, { vocabSize: 16 });
  assert(naive.horizontal > 5 * floor.horizontal, `${naive.horizontal} vs ${floor.horizontal}`);
  assert(naive.horizontal > 2 * naive.vertical, `${naive.horizontal} vs ${naive.vertical}`);
});

Deno.test("pair statistics reject bad grids", () => {
  assertThrows(
    () => pairHistogram(grid(1, 2, 2, [0, 1, 2]), HORIZONTAL, { vocabSize: 4 }),
    RangeError,
    "expected n*height*width",
  );
  assertThrows(
    () => pairHistogram(grid(1, 2, 2, [0, 1, 9, 0]), VERTICAL, { vocabSize: 4 }),
    RangeError,
    "not in [0, 4)",
  );
  assertThrows(
    () => pairHistogram(grid(1, 2, 2, [0, 1, 1, 0]), { dy: 0, dx: 0 }, { vocabSize: 4 }),
    RangeError,
    "offset",
  );
});
