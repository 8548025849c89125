import { assert, assertEquals } from "./assert.ts";
import { makeGrid } from "../src/media/mod.ts";
import { par, raster, rasterGroups } from "../src/schedule/mod.ts";
import { scheduleFigure, stepsOverTimeFigure, svgToPng } from "../src/viz/mod.ts";
import { parseHTML } from "../src/deps/plot.ts";
import { loadSharp } from "../src/deps/sharp.ts";

const sharp = await loadSharp();

const image = makeGrid(24, 24);

/** Parse an SVG string as XML-ish markup and return its root element. */
function parseSvg(svg: string) {
  const { document } = parseHTML(`<html><body>${svg}</body></html>`) as unknown as {
    document: {
      querySelector(
        s: string,
      ): {
        getAttribute(n: string): string | null;
        querySelectorAll(s: string): { textContent: string }[];
      } | null;
    };
  };
  const root = document.querySelector("svg");
  assert(root, "no <svg> root");
  return root;
}

Deno.test("schedule figure: standalone SVG, one label per cell with its step number", () => {
  const s = par(image, { m: 2 });
  const fig = scheduleFigure(s, { cellSize: 20 });
  assert(fig.svg.startsWith("<svg"), "not an svg document");
  assert(fig.svg.includes('xmlns="http://www.w3.org/2000/svg"'), "no xmlns");
  const root = parseSvg(fig.svg);
  assertEquals(Number(root.getAttribute("width")), fig.width);
  // Labels: the g[aria-label=text] group holds one <text> per cell.
  const texts = [...root.querySelectorAll('g[aria-label="text"] text')].map((t) => t.textContent);
  assertEquals(texts.length, 576);
  const counts = new Map<string, number>();
  for (const t of texts) counts.set(t, (counts.get(t) ?? 0) + 1);
  // Steps 1..4 label one cell each; every parallel step labels four.
  for (const k of ["1", "2", "3", "4"]) assertEquals(counts.get(k), 1);
  assertEquals(counts.get("5"), 4);
  assertEquals(counts.get("147"), 4);
  assertEquals(counts.size, 147);
  // Region borders: four boxes.
  assertEquals(fig.svg.match(/stroke-width="2"/g)?.length ?? 0, 1);
});

Deno.test("schedule figure PNG has the expected size", async () => {
  const fig = scheduleFigure(raster(makeGrid(8, 8)), { cellSize: 20 });
  const png = await svgToPng(fig.svg, 2);
  const meta = await sharp(png).metadata();
  assertEquals(meta.format, "png");
  assertEquals(meta.width, fig.width * 2);
  assertEquals(meta.height, fig.height * 2);
  assert(fig.width >= 8 * 20 && fig.height >= 8 * 20, "figure smaller than its cells");
});

Deno.test("video schedule figure draws one panel per frame", () => {
  const video = makeGrid(4, 4, 3);
  const fig = scheduleFigure(par(video, { m: 2 }), { cellSize: 16 });
  const root = parseSvg(fig.svg);
  const texts = [...root.querySelectorAll('g[aria-label="text"] text')];
  assertEquals(texts.length, 48);
  // Facets: one panel per frame, each titled above its grid.
  for (const f of [1, 2, 3]) {
    assert(fig.svg.includes(`>frame ${f}</text>`), `frame ${f} title missing`);
  }
  assert(!fig.svg.includes(">frame 4</text>"), "a panel too many");
  assert(fig.width > 3 * 4 * 16, "panels are not side by side");
});

Deno.test("tokens-over-steps figure labels each schedule's end", () => {
  const fig = stepsOverTimeFigure([
    raster(image),
    par(image, { m: 2 }),
    rasterGroups(image, { n: 4 }),
  ]);
  assert(fig.svg.includes("raster (576)"), "raster label missing");
  assert(fig.svg.includes("par4, raster4 (147)"), "shared end label missing");
});
