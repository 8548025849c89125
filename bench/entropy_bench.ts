/**
 * All-pairs dependency at fixture scale: 6000 grids x 576 cells, K = 1024 codes, 165,600 pairs.
 * Target: <= 30 s on 2 cores. The data are synthetic (a skewed code distribution like the emoji
 * tokens' heavy white-background code) so the benchmark runs without the fixture.
 * Run: deno bench -A bench/entropy_bench.ts (also prints the wall time of one full pass).
 */
import { allPairsStats } from "../src/entropy/all_pairs.ts";
import { Rng } from "../src/util/rng.ts";

const N = 6000, C = 576, K = 1024;
const rng = new Rng(1);
const columns = new Uint16Array(N * C);
// The cube of a uniform gives a long-tailed code histogram (code 0 alone holds ~10 %).
for (let i = 0; i < columns.length; i++) columns[i] = Math.floor(rng.next() ** 3 * K);
const table = { columns, rows: N, cells: C, alphabet: K };

for (const workers of [1, 2]) {
  const t0 = performance.now();
  await allPairsStats(table, { workers });
  console.log(
    `all pairs (165,600) at N=${N}, K=${K}, ${workers} worker(s): ` +
      `${((performance.now() - t0) / 1000).toFixed(2)} s`,
  );
}

Deno.bench("all pairs 576 cells x 6000 grids, K=1024, 2 workers", { n: 3, warmup: 0 }, async () => {
  await allPairsStats(table, { workers: 2 });
});
Deno.bench("all pairs, on the calling thread", { n: 2, warmup: 0 }, async () => {
  await allPairsStats(table, { workers: 1 });
});
