/**
 * Inline display in Deno Jupyter notebooks: figures as SVG (vector) or as PNG (smaller for dense
 * heat maps, so committed notebooks stay light), PNG bytes and Markdown. Outside a Jupyter kernel
 * every call does nothing, so the same code runs in scripts and tests. Each returns nothing, so a
 * cell ending with one does not also print the figure's source as text.
 * @module
 */
import { Buffer } from "node:buffer";
import type { Figure } from "./compose.ts";
import { svgToPng } from "./render.ts";

/** Send one MIME bundle to the kernel, when there is one. */
function display(bundle: Record<string, string>): void {
  let jupyter;
  try {
    // deno-lint-ignore no-explicit-any
    jupyter = (Deno as any).jupyter;
  } catch {
    return; // outside `deno jupyter` the property throws: no kernel, nothing to show
  }
  if (jupyter?.display) jupyter.display(bundle, { raw: true });
}

/**
 * Show a figure inline as SVG (`image/svg+xml`, so the notebook stays vector).
 * @example
 * displayFigure(scheduleFigure(par(makeGrid(24, 24), { m: 2 })));
 */
export function displayFigure(fig: Figure): void {
  display({ "image/svg+xml": fig.svg });
}

/**
 * Show a figure inline as PNG rendered at `scale` x its SVG size.
 * @example
 * await showFigure(conditionalEntropyMapsFigure(maps, grid));
 */
export async function showFigure(fig: Figure, scale = 1.25): Promise<void> {
  showPng(await svgToPng(fig.svg, scale));
}

/** Show PNG bytes inline. */
export function showPng(png: Uint8Array): void {
  display({ "image/png": Buffer.from(png).toString("base64") });
}

/** Show Markdown inline (tables render on the repository page). */
export function showMarkdown(markdown: string): void {
  display({ "text/markdown": markdown });
}
