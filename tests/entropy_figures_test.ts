import {
  cellMapsFigure,
  conditionalEntropyMapsFigure,
  distanceCurveFigure,
  entropyIncreaseFigure,
  entropyIncreaseMapFigure,
  offsetMapFigure,
  scheduleCostFigure,
} from "../src/viz/entropy_maps.ts";
import { entropyIncrease, meanByDistance, meanByOffset, scheduleCost } from "../src/entropy/mod.ts";
import { makeGrid, par, rasterGroups } from "../src/schedule/mod.ts";
import { svgToPng } from "../src/viz/render.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";

const grid = makeGrid(8, 8);
const ramp = Float64Array.from({ length: 64 }, (_, i) => i / 63);

function count(svg: string, re: RegExp): number {
  return svg.match(re)?.length ?? 0;
}

Deno.test("conditional-entropy maps: one panel per reference, references outlined in red", async () => {
  const fig = conditionalEntropyMapsFigure(
    [{ ref: 0, values: ramp }, { ref: 27, values: ramp }],
    grid,
  );
  assert(fig.svg.startsWith("<svg") && fig.svg.includes('xmlns="http://www.w3.org/2000/svg"'));
  assert(fig.svg.includes("reference (0, 0)") && fig.svg.includes("reference (3, 3)"));
  assert(fig.svg.includes("H(X_j | X_ref), bits"), "legend label");
  assertEquals(count(fig.svg, /stroke="red"/g), 2); // one outline group per panel
  const png = await svgToPng(fig.svg, 1);
  assertEquals(Array.from(png.slice(1, 4)), [80, 78, 71]); // "PNG"
});

Deno.test("increase map labels every cell with its step number", () => {
  const s = par(grid, { m: 2 });
  const fig = entropyIncreaseFigure([{
    increase: ramp.map((v) => v - 0.5),
    schedule: s,
    title: "par",
  }], grid);
  const labels = [...fig.svg.matchAll(/<text[^>]*>(\d+)<\/text>/g)].map((m) => m[1]);
  // 64 cell labels plus the colour bar's numeric ticks at most.
  assert(labels.filter((l) => l === "4").length >= 1);
  assertEquals(labels.filter((l) => l === String(s.steps.length)).length, 4);
  const inc = entropyIncrease({ grid, entropy: ramp }, {
    grid,
    entropy: ramp.map((v) => v * 2),
    label: "x2",
  });
  assert(entropyIncreaseMapFigure(inc, s).svg.includes("x2 − base"));
  assertThrows(() => cellMapsFigure([{ title: "t", values: [1, 2] }], grid), Error, "64 cells");
});

Deno.test("offset, distance and cost figures render", () => {
  const c = 64;
  const m = new Float64Array(c * c).map((_, k) => 1 / (1 + Math.abs((k % c) - Math.floor(k / c))));
  assert(offsetMapFigure(meanByOffset(m, grid), { maxOffset: 3 }).svg.includes("dx"));
  const dist = distanceCurveFigure([{ name: "demo", points: meanByDistance(m, grid) }]);
  assert(dist.svg.includes("demo") && dist.svg.includes("distance (cells)"));
  const costs = [par(grid, { m: 2 }), rasterGroups(grid, { n: 4 })].map((s) => scheduleCost(s, m));
  const fig = scheduleCostFigure(costs);
  assert(fig.svg.includes("par-m2 (") || fig.svg.includes(`${costs[0].name} (`));
});

Deno.test("cell maps: repeated titles numbered, a video panel's frames each titled", () => {
  const video = makeGrid(4, 4, 2);
  const v = Float64Array.from({ length: 32 }, (_, i) => i);
  const fig = cellMapsFigure(
    [{ title: "v", values: v, marked: [20] }, { title: "v", values: v }],
    video,
    { columns: 1, title: "clip" },
  );
  for (const t of ["v, frame 1", "v, frame 2", "v (2), frame 1", "v (2), frame 2", "clip"]) {
    assert(fig.svg.includes(`>${t}</text>`), t);
  }
  assertEquals(count(fig.svg, /stroke="red"/g), 1);
});
