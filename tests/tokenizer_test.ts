import { assert, assertEquals, assertThrows } from "./assert.ts";
import {
  clusterCodebook,
  kmeans,
  nearestBruteForce,
  NearestCodeIndex,
  PatchKMeansTokenizer,
  psnrOf,
  samplePatches,
} from "../src/tokenizer/mod.ts";
import type { ImageBatch } from "../src/media/batches.ts";
import { Rng } from "../src/util/rng.ts";

function randomCodebook(k: number, dim: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: k * dim }, () => rng.next() * 255);
}

Deno.test("nearest-code index equals brute force, ties to the lowest index", () => {
  const dim = 12;
  const codes = randomCodebook(300, dim, 1);
  // Duplicate codes create exact ties: the lower index must win.
  codes.copyWithin(250 * dim, 10 * dim, 11 * dim);
  codes.copyWithin(251 * dim, 10 * dim, 11 * dim);
  const index = new NearestCodeIndex(codes, dim);
  const rng = new Rng(2);
  const x = new Uint8Array(dim);
  for (let trial = 0; trial < 3000; trial++) {
    for (let t = 0; t < dim; t++) x[t] = rng.int(256);
    if (trial % 10 === 0) { for (let t = 0; t < dim; t++) x[t] = Math.round(codes[10 * dim + t]); }
    assertEquals(index.nearest(x, 0), nearestBruteForce(codes, dim, x, 0));
  }
  const exact = Array.from(codes.subarray(10 * dim, 11 * dim));
  assertEquals(index.nearest(exact, 0), 10);
  assertEquals(index.lastDistance, 0);
});

Deno.test("k-means is deterministic for a seed and reduces the distortion", () => {
  const rng = new Rng(5);
  const points = Float64Array.from({ length: 2000 * 3 }, () => rng.int(256));
  const a = kmeans(points, 3, { k: 16, iterations: 8, seed: 11 });
  const b = kmeans(points, 3, { k: 16, iterations: 8, seed: 11 });
  const c = kmeans(points, 3, { k: 16, iterations: 8, seed: 12 });
  assertEquals(a.centroids, b.centroids);
  assert(a.centroids.some((v, i) => v !== c.centroids[i]), "another seed gives another result");
  assert(a.history[a.history.length - 1] < a.history[0], `history ${a.history}`);
  // Fewer distinct points than k must not crash.
  const few = kmeans(new Float64Array([0, 0, 0, 255, 255, 255]), 3, {
    k: 4,
    iterations: 3,
    seed: 0,
  });
  assertEquals(few.centroids.length, 12);
});

/** Pictures made of two flat colours per quarter: exactly representable by a small codebook. */
function blockPictures(n: number): ImageBatch {
  const h = 8, w = 8;
  const data = new Uint8Array(n * h * w * 3);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const q = (y < 4 ? 0 : 2) + (x < 4 ? 0 : 1);
        const o = ((i * h + y) * w + x) * 3;
        data[o] = (q * 60 + i * 10) % 256;
        data[o + 1] = q * 40;
        data[o + 2] = 255 - q * 50;
      }
    }
  }
  return { n, height: h, width: w, data };
}

Deno.test("patch tokenizer: encode/decode round trip, save/load, bad tokens", async () => {
  const images = blockPictures(3);
  const tok = PatchKMeansTokenizer.train(images, { k: 12, patch: 2, samplePatches: 4000, seed: 3 });
  assertEquals(tok.vocabSize, 12);
  assertEquals(tok.downsample, 2);
  const grids = await tok.encode(images);
  assertEquals([grids.n, grids.height, grids.width], [3, 4, 4]);
  const recon = await tok.decode(grids);
  assertEquals(recon.data, images.data, "12 flat colours need 12 codes: exact reconstruction");
  assertEquals(psnrOf(images, recon).psnr, 100);
  // Re-encoding the decoded pictures gives the same tokens.
  assertEquals((await tok.encode(recon)).tokens, grids.tokens);

  const dir = await Deno.makeTempDir();
  try {
    await tok.save(`${dir}/codebook.npy.gz`);
    const loaded = await PatchKMeansTokenizer.load(`${dir}/codebook.npy.gz`);
    assertEquals(loaded.codebook, tok.codebook);
    assertEquals((await loaded.encode(images)).tokens, grids.tokens);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }

  assertThrows(
    () => tok.decodeSync({ n: 1, height: 1, width: 1, tokens: [12] }),
    RangeError,
    "not in [0, 12)",
  );
  assertThrows(
    () => tok.encodeSync({ n: 1, height: 3, width: 4, data: new Uint8Array(36) }),
    RangeError,
    "not divisible",
  );
  assertThrows(() => new PatchKMeansTokenizer(new Float32Array(11), 2), RangeError, "multiple");
  assertThrows(
    () =>
      PatchKMeansTokenizer.fromNpy({
        dtype: "float64",
        shape: [1, 2, 2, 3],
        data: new Float64Array(12),
      }),
    Error,
    "float32",
  );
});

Deno.test("patch sampling is seeded", () => {
  const images = blockPictures(4);
  assertEquals(samplePatches(images, 50, 2, 9), samplePatches(images, 50, 2, 9));
  assertEquals(samplePatches(images, 50, 2, 9).length, 50 * 12);
});

Deno.test("codebook clusters: seeded, numbered densely by first appearance, nearest centroid", () => {
  const dim = 3;
  // Three colour blobs, listed so that the blob of code 0 is not the first centroid drawn.
  const rng = new Rng(4);
  const centres = [200, 20, 110];
  const book = Float32Array.from({ length: 60 * dim }, (_, i) => {
    const code = Math.floor(i / dim);
    return centres[code % 3] + rng.int(9);
  });
  const a = clusterCodebook(book, dim, { groups: 3, iterations: 20, seed: 2 });
  assertEquals(a, clusterCodebook(book, dim, { groups: 3, iterations: 20, seed: 2 }));
  assertEquals(a.groups, 3);
  // Dense numbering: code c's cluster id is at most one more than any id seen before it.
  assertEquals(Array.from(a.codeMap.subarray(0, 6)), [0, 1, 2, 0, 1, 2]);
  for (let c = 0; c < 60; c++) assertEquals(a.codeMap[c], c % 3);
  // The map is the nearest k-means centroid, relabelled.
  const { centroids } = kmeans(book, dim, { k: 3, iterations: 20, seed: 2 });
  const relabel = new Map<number, number>();
  for (let c = 0; c < 60; c++) {
    const g = nearestBruteForce(centroids, dim, book, c * dim);
    if (!relabel.has(g)) relabel.set(g, relabel.size);
    assertEquals(a.codeMap[c], relabel.get(g));
  }
  // Every option is explicit and checked.
  assertThrows(() => clusterCodebook(book, 7, { groups: 3, iterations: 5, seed: 0 }), RangeError);
  assertThrows(
    () => clusterCodebook(book, dim, { groups: 61, iterations: 5, seed: 0 }),
    RangeError,
    "groups must be an integer in 1..K (60)",
  );
  assertThrows(
    () => clusterCodebook(book, dim, { groups: 2, iterations: -1, seed: 0 }),
    RangeError,
    "iterations",
  );
});
