/**
 * Rendering plumbing shared by every figure: Observable Plot on a server-side DOM to a standalone
 * SVG {@link Figure}, PNG through sharp, and saving both. Composing figures is in `compose.ts`,
 * showing them in a notebook in `notebook.ts`.
 * @module
 */
import { parseHTML, Plot } from "../deps/plot.ts";
import { loadSharp } from "../deps/sharp.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { type Figure, FONT_FAMILY, vstack } from "./compose.ts";

/** The few DOM element methods the renderer needs (Deno has no DOM types; linkedom provides them). */
interface DomElement {
  tagName: string;
  outerHTML: string;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  querySelectorAll(selector: string): Iterable<DomElement>;
}

/** Options for {@link plotFigure}: anything `Plot.plot` takes, minus the DOM document. */
export type PlotOptions = Omit<Parameters<typeof Plot.plot>[0], "document">;

/**
 * Render Observable Plot options to a standalone SVG {@link Figure} (no browser needed).
 * Plot returns a `<figure>` when a legend or title is asked for; the SVGs are then stacked.
 * @example
 * const fig = plotFigure({ marks: [Plot.dot([{ x: 1, y: 2 }], { x: "x", y: "y" })] });
 */
export function plotFigure(options: PlotOptions): Figure {
  // Plot puts a title in an HTML <h2>; draw it as SVG text instead so the file stands alone.
  const { title, subtitle: _subtitle, caption: _caption, ...rest } = options as PlotOptions & {
    title?: unknown;
    subtitle?: unknown;
    caption?: unknown;
  };
  const fig = renderPlot(rest);
  return typeof title === "string" && title.length > 0 ? vstack([fig], title) : fig;
}

function renderPlot(options: PlotOptions): Figure {
  const { document } = parseHTML("<!DOCTYPE html><html><body></body></html>") as unknown as {
    document: unknown;
  };
  // deno-lint-ignore no-explicit-any
  const node = Plot.plot({ ...options, document } as any) as unknown as DomElement;
  return elementToFigure(node);
}

/**
 * Convert a Plot result (`<svg>` or a `<figure>` holding svgs, e.g. a colour-ramp legend above
 * the chart) into one standalone SVG by stacking the svgs vertically. HTML-only parts of a
 * figure (categorical swatch legends) are dropped: use a ramp legend or a text mark instead.
 */
function elementToFigure(node: DomElement): Figure {
  if (node.tagName.toLowerCase() === "svg") return svgElementToFigure(node);
  const svgs = [...node.querySelectorAll("svg")];
  if (svgs.length === 0) throw new Error("plot produced no SVG");
  return vstack(svgs.map(svgElementToFigure));
}

function svgElementToFigure(svg: DomElement): Figure {
  svg.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  // Server-side there are no system-ui fonts; name one that is installed.
  svg.setAttribute("font-family", FONT_FAMILY);
  const width = Number(svg.getAttribute("width"));
  const height = Number(svg.getAttribute("height"));
  return { svg: svg.outerHTML, width, height };
}

/**
 * Rasterise SVG markup to PNG bytes with sharp at `scale` x the SVG's pixel size.
 * A white background is flattened in so the PNG reads in any viewer.
 */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const buf = await sharp(new TextEncoder().encode(svg), { density: 72 * scale })
    .flatten({ background: "#ffffff" })
    .png()
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Save a figure as `<base>.svg` and `<base>.png`; returns both paths.
 * Writes are atomic, so an interrupted run never leaves a half file.
 */
export async function saveFigure(
  fig: Figure,
  base: string,
  scale = 2,
): Promise<{ svg: string; png: string }> {
  const svgPath = `${base}.svg`;
  const pngPath = `${base}.png`;
  await writeFileAtomic(svgPath, fig.svg);
  await writeFileAtomic(pngPath, await svgToPng(fig.svg, scale));
  return { svg: svgPath, png: pngPath };
}
