import { runDependencyAnalysis } from "../analysis/dependency.ts";
import { combField, entropyIncrease } from "../src/entropy/mod.ts";
import { makeGrid, par } from "../src/schedule/mod.ts";
import { Rng } from "../src/util/rng.ts";
import { assert, assertEquals } from "./assert.ts";

Deno.test("dependency analysis writes figures and a JSON whose costs rank the schedules", async () => {
  const out = await Deno.makeTempDir({ prefix: "parlab-dep-" });
  try {
    const k = 16;
    const ts = combField({
      height: 8,
      width: 8,
      vocabSize: k,
      count: 600,
      rhoH: 0.8,
      rhoV: 0.7,
      seed: 3,
    });
    const rng = new Rng(1);
    const labels = new Uint8Array(600).map(() => rng.int(2));
    const book = Float32Array.from({ length: k * 12 }, (_, i) => Math.floor(i / 12) * 10);
    const grid = makeGrid(8, 8);
    const seq = { label: "raster", grid, entropy: new Float64Array(64).fill(1) };
    const parallel = {
      label: "par4",
      grid,
      entropy: new Float64Array(64).fill(1.5),
      schedule: par(grid, { m: 2 }),
    };
    const s = await runDependencyAnalysis({
      tokens: { ...ts, labels, classNames: ["a", "b"] },
      codebook: { data: book, dim: 12 },
      groups: 4,
      outDir: out,
      workers: 0,
      progress: false,
      minClassRows: 100,
      increase: { base: seq, others: [parallel] },
    });
    assertEquals(s.samples, 600);
    assertEquals(s.coarseGroups, 4);
    assertEquals(s.perClass?.map((c) => c.name), ["a", "b"]);
    assertEquals(s.scheduleCosts.raster.total, 0);
    assert(s.scheduleCosts.raster4.total > s.scheduleCosts.par4.total, "raster groups above PAR");
    assertEquals(s.increase, [{
      label: "par4 − raster",
      meanIncreaseBits: entropyIncrease(seq, parallel).meanIncrease,
      quantity: "entropy",
    }]);
    const json = JSON.parse(await Deno.readTextFile(`${out}/dependency.json`));
    assertEquals(json.scheduleCosts.par4.steps, 4 + 60 / 4); // PAR-4x on 8 x 8: 19 steps
    for (const f of s.figures) {
      const png = await Deno.readFile(`${out}/${f}`);
      assert(png.length > 1000, `${f} is empty`);
      await Deno.stat(`${out}/${f.replace(/\.png$/, ".svg")}`);
    }
    assert(s.figures.includes("figures/entropy_increase.png"));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
