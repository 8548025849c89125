/**
 * The all-pairs probe sharded by reference cells: shards balanced by pair count cover every cell
 * once, and joined they give the unsharded result exactly (every estimator, worker or not).
 */
import { assert, assertEquals } from "./assert.ts";
import { combField } from "../src/entropy/synthetic.ts";
import { pairwiseDependency, pairwiseShard } from "../src/entropy/dependency.ts";
import { pairCount, referenceShard } from "../src/entropy/all_pairs.ts";

Deno.test("referenceShard: contiguous ranges covering all cells, balanced by pairs", () => {
  for (const [cells, count] of [[576, 4], [100, 7], [5, 5], [3, 8]]) {
    const ranges = Array.from(
      { length: count },
      (_, index) => referenceShard(cells, { index, count }),
    );
    assertEquals(ranges[0].start, 0);
    assertEquals(ranges.at(-1)!.end, cells);
    for (let i = 1; i < count; i++) assertEquals(ranges[i].start, ranges[i - 1].end);
    if (cells >= 100) {
      const pairs = ranges.map(({ start, end }) => {
        let n = 0;
        for (let r = start; r < end; r++) n += cells - 1 - r;
        return n;
      });
      const ideal = pairCount(cells) / count;
      for (const p of pairs) assert(Math.abs(p - ideal) <= cells, `${p} pairs vs ${ideal}`);
    }
  }
});

Deno.test("pairwiseShard: joined shards equal the unsharded probe, bit for bit", async () => {
  const ts = combField({
    height: 6,
    width: 6,
    count: 400,
    seed: 3,
    vocabSize: 8,
    rhoH: 0.7,
    rhoV: 0.4,
  });
  const whole = await pairwiseDependency(ts, { workers: 0, shuffles: 2 });
  const shards = [];
  for (let index = 0; index < 3; index++) {
    shards.push(
      await pairwiseShard(ts, { index, count: 3 }, { workers: index === 1 ? 2 : 0, shuffles: 2 }),
    );
  }
  const joined = await pairwiseDependency(ts, { shuffles: 2, fromShards: shards.reverse() });
  assertEquals(Object.keys(joined.mutualInformation), Object.keys(whole.mutualInformation));
  for (const [name, mi] of Object.entries(whole.mutualInformation)) {
    assertEquals(joined.mutualInformation[name as keyof typeof whole.mutualInformation], mi, name);
  }
  const missing = await pairwiseDependency(ts, { fromShards: shards.slice(1) }).then(
    () => null,
    (e) => e as Error,
  );
  assert(missing?.message.includes("are missing"), String(missing));
});
