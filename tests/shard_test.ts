/**
 * Sharded sampling: `deno task sample --shard i/N` into one --out, then `deno task merge`, gives
 * the unsharded run's files token for token (the tokens of image k never depend on N); merge
 * refuses missing shards and shards of other settings; shard specs out of range are refused.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { denoRun } from "./deno_run.ts";
import { loadNpyFile } from "../src/io/npy.ts";
import { resolveShard, shardFolder, shardRange } from "../src/util/shards.ts";

const root = new URL("../", import.meta.url);
const sample = new URL("main/sample.ts", root).pathname;
const merge = new URL("main/merge.ts", root).pathname;
const model = new URL("fixtures/models/tiny-par16.json", root).pathname;
const base = [
  "--model",
  model,
  "--classes",
  "0,1,2",
  "--count",
  "2",
  "--batch",
  "2",
  "--seed",
  "3",
];

Deno.test("shards: ranges are contiguous, balanced and cover the run", () => {
  const ranges = [0, 1, 2, 3].map((index) => shardRange(6, { index, count: 4 }));
  assertEquals(ranges, [{ start: 0, end: 1 }, { start: 1, end: 3 }, { start: 3, end: 4 }, {
    start: 4,
    end: 6,
  }]);
  assertEquals(shardFolder({ index: 2, count: 16 }), "shard-0002-of-0016");
  assertEquals(resolveShard("auto/4", (k) => ({ SLURM_ARRAY_TASK_ID: "3" })[k]), {
    index: 3,
    count: 4,
  });
  assertEquals(resolveShard("auto/4", (k) => ({ JOB_COMPLETION_INDEX: "1" })[k]), {
    index: 1,
    count: 4,
  });
  assertThrows(() => resolveShard("4/4"), Error, "out of range");
  assertThrows(() => resolveShard("auto/4", () => undefined), Error, "neither is set");
  assertThrows(() => resolveShard("1-4"), Error, "is not i/N");
});

Deno.test("shards: 4 shards merged equal the unsharded run; merge refuses what does not fit", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parlab-shards-" });
  try {
    const whole = await denoRun([sample, ...base, "--out", `${dir}/whole`]);
    assertEquals(whole.code, 0, whole.stderr);
    // Three of four shards, then merge: refused, naming the missing one.
    for (const i of [0, 1, 3]) {
      const r = await denoRun([sample, ...base, "--shard", `${i}/4`, "--out", `${dir}/split`]);
      assertEquals(r.code, 0, r.stderr);
    }
    const early = await denoRun([merge, "--out", `${dir}/split`]);
    assertEquals(early.code, 1);
    assert(
      early.stderr.includes("shard 2 of 4 is missing") && early.stderr.includes("--shard 2/4"),
      early.stderr,
    );
    assert(!(await Deno.stat(`${dir}/split/tokens.npy`).catch(() => null)), "nothing written");
    const last = await denoRun([sample, ...base, "--shard", "2/4", "--out", `${dir}/split`]);
    assertEquals(last.code, 0, last.stderr);
    const merged = await denoRun([merge, "--out", `${dir}/split`]);
    assertEquals(merged.code, 0, merged.stderr);
    for (const f of ["tokens.npy", "labels.npy"]) {
      const a = await loadNpyFile(`${dir}/whole/${f}`);
      const b = await loadNpyFile(`${dir}/split/${f}`);
      assertEquals(b.shape, a.shape, f);
      assertEquals(b.data, a.data, `${f}: merged shards equal the unsharded run`);
    }
    // A shard sampled with another seed: refused, naming the setting.
    await Deno.remove(`${dir}/split/shard-0001-of-0004`, { recursive: true });
    const odd = await denoRun([
      sample,
      ...base.slice(0, -1),
      "4",
      "--shard",
      "1/4",
      "--out",
      `${dir}/split`,
    ]);
    assertEquals(odd.code, 0, odd.stderr);
    const mixed = await denoRun([merge, "--out", `${dir}/split`]);
    assertEquals(mixed.code, 1);
    assert(mixed.stderr.includes("other settings") && mixed.stderr.includes("seed"), mixed.stderr);
    const range = await denoRun([sample, ...base, "--shard", "4/4", "--out", `${dir}/x`]);
    assertEquals(range.code, 1);
    assert(range.stderr.includes("out of range"), range.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
