/**
 * evaluateSamples on real emoji token grids: real against itself (all distances 0), held-out real
 * grids (the floor), and two damaged versions (neighbours taken from other grids, tokens shuffled)
 * that every metric must see.
 */
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "./assert.ts";
import {
  evaluateSamples,
  type ImageFeatureExtractor,
  loadEmojiClassifier,
  prepareReference,
} from "../src/metrics/mod.ts";
import { loadEmojiDataset, loadPatchTokenizer } from "../src/data/mod.ts";
import { Rng } from "../src/util/rng.ts";
import type { TokenGrids } from "../src/media/batches.ts";

const CELLS = 24 * 24;

/** Grids `rows` (in that order) of a split, with their labels. */
function pick(tokens: Uint16Array, labels: ArrayLike<number>, rows: number[]) {
  const out = new Uint16Array(rows.length * CELLS);
  rows.forEach((r, i) => out.set(tokens.subarray(r * CELLS, (r + 1) * CELLS), i * CELLS));
  return {
    grids: { n: rows.length, height: 24, width: 24, tokens: out } as TokenGrids,
    labels: Uint8Array.from(rows, (r) => labels[r]),
  };
}

/**
 * Imitate decoding row groups of 4 cells in one step: cells 2..4 of each group come from the same
 * position of another grid of the same class, so they fit the picture's layout but not their
 * left neighbour.
 */
function breakRowGroups(grids: TokenGrids, labels: Uint8Array, seed: number): TokenGrids {
  const rng = new Rng(seed);
  const out = grids.tokens.slice();
  for (let i = 0; i < grids.n; i++) {
    const same = [...labels.keys()].filter((j) => labels[j] === labels[i]);
    for (let cell = 0; cell < CELLS; cell++) {
      if (cell % 4 === 0) continue;
      out[i * CELLS + cell] = grids.tokens[same[rng.int(same.length)] * CELLS + cell];
    }
  }
  return { ...grids, tokens: out };
}

Deno.test("evaluateSamples: identical, held-out and damaged grids", async () => {
  const classifier: ImageFeatureExtractor = await loadEmojiClassifier();
  try {
    const tokenizer = await loadPatchTokenizer();
    const val = await loadEmojiDataset("val");
    // A seeded random split of val (the file is in emoji order, so halves would differ in class)
    const rows = new Rng(7).shuffle(Array.from({ length: val.n }, (_, i) => i));
    const real = pick(val.tokens, val.labels, rows.slice(0, 400));
    const heldOut = pick(val.tokens, val.labels, rows.slice(400));
    const reference = await prepareReference(real.grids, tokenizer, classifier);
    const kid = { subsets: 10, subsetSize: 300 };
    const run = (grids: TokenGrids, labels: Uint8Array) =>
      evaluateSamples({ generated: grids, labels, real: reference, tokenizer, classifier, kid });

    const self = await run(real.grids, real.labels);
    assertAlmostEquals(self.frechet, 0, 1e-6);
    assertEquals([self.pairJS.horizontal, self.pairJS.vertical], [0, 0]);
    assert(Math.abs(self.kid.mean) < 0.02, `self KID ${self.kid.mean}`);

    const floor = await run(heldOut.grids, heldOut.labels);
    assert(floor.classAccuracy > 0.5, `held-out class accuracy ${floor.classAccuracy}`);
    const broken = await run(breakRowGroups(heldOut.grids, heldOut.labels, 1), heldOut.labels);
    assert(broken.frechet > 5 * floor.frechet, `Fréchet ${broken.frechet} vs ${floor.frechet}`);
    assert(
      broken.kid.mean > Math.max(0.1, 5 * floor.kid.mean),
      `KID ${broken.kid.mean} vs ${floor.kid.mean}`,
    );
    assert(broken.pairJS.horizontal > 2 * floor.pairJS.horizontal);
    assert(broken.pairJS.horizontal > broken.pairJS.vertical, "row groups hurt horizontal most");

    const rng = new Rng(2);
    const shuffled = heldOut.grids.tokens.slice();
    for (let i = 0; i < heldOut.grids.n; i++) {
      const cells = rng.shuffle([...shuffled.subarray(i * CELLS, (i + 1) * CELLS)]);
      shuffled.set(cells, i * CELLS);
    }
    const noise = await run({ ...heldOut.grids, tokens: shuffled }, heldOut.labels);
    assert(noise.classAccuracy < 0.5 * floor.classAccuracy, `accuracy ${noise.classAccuracy}`);
    assert(noise.frechet > 5 * floor.frechet);

    // Passing the real grids instead of a prepared reference gives the same numbers.
    const direct = await evaluateSamples({
      generated: heldOut.grids,
      labels: heldOut.labels,
      real: real.grids,
      tokenizer,
      classifier,
      kid,
    });
    assertEquals(direct, floor);

    await assertRejects(
      () => run(heldOut.grids, heldOut.labels.subarray(1)),
      RangeError,
      "labels has 369 entries",
    );
  } finally {
    await classifier.release();
  }
});
