/**
 * Rendering plumbing shared by every figure: Observable Plot on a server-side DOM, SVG strings,
 * PNG through sharp, and inline display in Deno Jupyter notebooks.
 * @module
 */
import { parseHTML, Plot } from "../deps/plot.ts";
import { loadSharp } from "../deps/sharp.ts";
import { writeFileAtomic } from "../util/atomic.ts";

/** A rendered figure: the SVG markup and its pixel size. */
export interface Figure {
  /** Standalone SVG document (with xmlns), ready to save or embed. */
  svg: string;
  /** Width in CSS pixels. */
  width: number;
  /** Height in CSS pixels. */
  height: number;
}

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
  return typeof title === "string" && title.length > 0 ? withTitle(fig, title) : fig;
}

/** Stack a title line above a figure. */
function withTitle(fig: Figure, title: string): Figure {
  const band = 24;
  const height = fig.height + band;
  const escaped = title.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return {
    svg:
      `<svg xmlns="http://www.w3.org/2000/svg" width="${fig.width}" height="${height}" viewBox="0 0 ${fig.width} ${height}" font-family="DejaVu Sans, sans-serif"><text x="6" y="17" font-size="14" font-weight="bold">${escaped}</text><g transform="translate(0,${band})">${fig.svg}</g></svg>`,
    width: fig.width,
    height,
  };
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
  const parts = svgs.map(svgElementToFigure);
  const width = Math.max(...parts.map((p) => p.width));
  let y = 0;
  const body = parts.map((p) => {
    const g = `<g transform="translate(0,${y})">${p.svg}</g>`;
    y += p.height;
    return g;
  }).join("");
  return {
    svg:
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="DejaVu Sans, sans-serif">${body}</svg>`,
    width,
    height: y,
  };
}

function svgElementToFigure(svg: DomElement): Figure {
  svg.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  // Server-side there are no system-ui fonts; name one that Debian's fonts-dejavu-core provides.
  svg.setAttribute("font-family", "DejaVu Sans, sans-serif");
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

/**
 * Show a figure inline when running inside a Deno Jupyter kernel (as `image/svg+xml`, so
 * notebooks stay vector); outside a notebook it does nothing. Returns nothing, so a notebook
 * cell ending with it does not also print the SVG source as text.
 */
export function displayFigure(fig: Figure): void {
  // deno-lint-ignore no-explicit-any
  const jupyter = (Deno as any).jupyter;
  if (jupyter?.display) jupyter.display({ "image/svg+xml": fig.svg }, { raw: true });
}
