/**
 * The paper-grade metrics on synthetic data with known answers: mergeable moments, FID of a set
 * against itself, Inception Score, improved precision/recall, and reference batches in ADM's
 * `.npz` layout.
 */
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "./assert.ts";
import { Rng } from "../src/util/rng.ts";
import { type FeatureSet, featureStats } from "../src/metrics/features.ts";
import { frechetFromStats } from "../src/metrics/frechet.ts";
import { emptyMoments, mergeMoments, momentsOf, statsFromMoments } from "../src/metrics/moments.ts";
import { inceptionScore } from "../src/metrics/inception_score.ts";
import { precisionRecall } from "../src/metrics/precision_recall.ts";
import { encodeReferenceStats, loadReferenceStats } from "../src/metrics/reference.ts";
import { readNpz, writeNpz } from "../src/io/npz.ts";

function gaussian(n: number, d: number, seed: number, shift = 0): FeatureSet {
  const rng = new Rng(seed);
  const data = new Float64Array(n * d);
  for (let i = 0; i < data.length; i += 2) {
    const u = Math.max(rng.next(), 1e-12);
    const v = rng.next();
    const r = Math.sqrt(-2 * Math.log(u));
    data[i] = r * Math.cos(2 * Math.PI * v) + shift;
    if (i + 1 < data.length) data[i + 1] = r * Math.sin(2 * Math.PI * v) + shift;
  }
  return { n, d, data };
}

Deno.test("moments: shards merge to the whole set's statistics, in any grouping", () => {
  const all = gaussian(300, 6, 1, 3);
  const part = (a: number, b: number): FeatureSet => ({
    n: b - a,
    d: 6,
    data: all.data.subarray(a * 6, b * 6),
  });
  const merged = mergeMoments(
    mergeMoments(momentsOf(part(0, 17)), emptyMoments(6)),
    mergeMoments(momentsOf(part(17, 200)), momentsOf(part(200, 300))),
  );
  const whole = featureStats(all);
  const fromShards = statsFromMoments(merged);
  assertEquals(fromShards.n, 300);
  for (let i = 0; i < 6; i++) assertAlmostEquals(fromShards.mean[i], whole.mean[i], 1e-12);
  for (let i = 0; i < 36; i++) assertAlmostEquals(fromShards.cov[i], whole.cov[i], 1e-10);
  assertThrows(() => mergeMoments(emptyMoments(2), emptyMoments(3)), RangeError, "dimension");
});

Deno.test("FID of a set against itself is 0 within 1e-6; a shifted set is |shift|^2 away", () => {
  const a = featureStats(gaussian(500, 8, 2));
  assert(frechetFromStats(a, a).distance < 1e-6, `${frechetFromStats(a, a).distance}`);
  const b = { ...a, mean: a.mean.map((v) => v + 0.5) };
  assertAlmostEquals(frechetFromStats(a, b).distance, 8 * 0.25, 1e-6);
});

Deno.test("Inception Score: 1 for identical predictions, the class count for confident distinct ones", () => {
  const classes = 4;
  const same = new Float32Array(40 * classes).fill(0.3);
  const one = inceptionScore(same, classes, { splits: 2 });
  assertAlmostEquals(one.mean, 1, 1e-12);
  const distinct = new Float32Array(40 * classes);
  for (let i = 0; i < 40; i++) distinct[i * classes + (i % classes)] = 60; // near one-hot
  const r = inceptionScore(distinct, classes, { splits: 2 }); // 5 of every class a split
  assertAlmostEquals(r.mean, classes, 1e-6);
  assertAlmostEquals(r.std, 0, 1e-9);
  assertThrows(() => inceptionScore(same, classes, { splits: 41 }), RangeError, "splits");
});

Deno.test("precision/recall: 1/1 for the same set, 0/0 for far apart sets, asymmetric for a subset", () => {
  const real = gaussian(120, 4, 3);
  const same = precisionRecall(real, real);
  assertEquals(same, { precision: 1, recall: 1 });
  const far = precisionRecall(real, gaussian(120, 4, 4, 100));
  assertEquals(far, { precision: 0, recall: 0 });
  // Generated = a tight cluster at the real mode: precise, but covering little of real.
  const tight: FeatureSet = { n: 60, d: 4, data: gaussian(60, 4, 5).data.map((v) => v * 0.05) };
  const pr = precisionRecall(real, tight);
  assertEquals(pr.precision, 1);
  assert(pr.recall < 0.3, `recall ${pr.recall}`);
});

Deno.test("reference batches: ADM's npz layout round-trips; a file without mu/sigma names the fix", async () => {
  const pool = featureStats(gaussian(50, 3, 6));
  const spatial = featureStats(gaussian(50, 2, 7));
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/ref.npz`, encodeReferenceStats({ pool, spatial, n: 50 }));
    const back = await loadReferenceStats(`${dir}/ref.npz`);
    assertEquals(back.n, 50);
    assertEquals(back.pool.mean, pool.mean);
    assertEquals(back.spatial!.cov, spatial.cov);
    const picturesOnly = writeNpz({
      arr_0: { dtype: "uint8", shape: [1, 2, 2, 3], data: new Uint8Array(12) },
    });
    await Deno.writeFile(`${dir}/pics.npz`, picturesOnly);
    const err = await loadReferenceStats(`${dir}/pics.npz`).then(() => null, (e) => e as Error);
    assert(err && err.name === "ManifestError", String(err));
    assert(err.message.includes("no mu/sigma") && err.message.includes("arr_0"), err.message);
    assertEquals(Object.keys(readNpz(picturesOnly)), ["arr_0"]);
    await Deno.writeTextFile(`${dir}/text.npz`, "hello");
    const bad = await loadReferenceStats(`${dir}/text.npz`).then(() => null, (e) => e as Error);
    assert(bad && bad.message.includes("not an .npz file"), String(bad));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
