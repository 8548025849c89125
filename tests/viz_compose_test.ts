import {
  displayFigure,
  type Figure,
  hstack,
  labelledRowsFigure,
  plotFigure,
  showFigure,
  showMarkdown,
  showPng,
  svgDocument,
  svgToPng,
  vstack,
} from "../src/viz/mod.ts";
import { Plot } from "../src/deps/plot.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";

const box = (width: number, height: number): Figure =>
  svgDocument(width, height, `<rect width="${width}" height="${height}"/>`);

Deno.test("vstack: widest part sets the width, a title adds its band and is escaped", () => {
  const plain = vstack([box(40, 10), box(60, 20)]);
  assertEquals([plain.width, plain.height], [60, 30]);
  assert(plain.svg.includes('<g transform="translate(0,10)">'), "second part below the first");
  const titled = vstack([box(40, 10)], "a < b & c > d");
  assertEquals([titled.width, titled.height], [40, 34]);
  assert(titled.svg.includes(">a &lt; b &amp; c &gt; d</text>"));
  assert(titled.svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="34"'));
  assertThrows(() => vstack([]), Error, "at least one");
});

Deno.test("hstack: parts side by side with a gap, optional background", () => {
  const fig = hstack([box(40, 10), box(60, 20)], { gap: 5 });
  assertEquals([fig.width, fig.height], [105, 20]);
  assert(fig.svg.includes('<g transform="translate(45,0)">'));
  assert(!fig.svg.includes('fill="white"'));
  const white = hstack([box(40, 10)], { background: "white" });
  assert(white.svg.includes('<rect width="40" height="10" fill="white"/>'));
});

Deno.test("labelledRowsFigure embeds each row's PNG next to its label, and renders", async () => {
  const png = await svgToPng(box(20, 10).svg, 1);
  const fig = labelledRowsFigure(
    [
      { label: "raster <1x>", png, width: 20, height: 10 },
      { label: "par4", png, width: 30, height: 10 },
    ],
    "Samples",
    100,
  );
  assertEquals(fig.width, 100 + 30 + 8);
  assertEquals((fig.svg.match(/<image /g) ?? []).length, 2);
  assert(fig.svg.includes("raster &lt;1x&gt;") && fig.svg.includes("data:image/png;base64,"));
  const out = await svgToPng(fig.svg, 1);
  assertEquals(Array.from(out.slice(1, 4)), [80, 78, 71]); // "PNG"
});

Deno.test("plotFigure: a title becomes the same title band vstack draws", () => {
  const options = { marks: [Plot.dot([{ x: 1, y: 2 }], { x: "x", y: "y" })] };
  const fig = plotFigure({ ...options, title: "Dots" });
  assertEquals(fig.svg, vstack([plotFigure(options)], "Dots").svg);
});

Deno.test("notebook display does nothing outside a kernel (where Deno.jupyter throws)", async () => {
  const fig = box(8, 8);
  displayFigure(fig);
  await showFigure(fig, 1);
  showPng(new Uint8Array([1, 2, 3]));
  showMarkdown("| a |");
});
