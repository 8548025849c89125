/**
 * Small helpers for the Deno notebooks in `notebooks/`: quick mode from the environment, and
 * inline display of figures as PNG (smaller than SVG for dense heat maps, so committed notebooks
 * stay light), PNG bytes and Markdown. Outside a Jupyter kernel the display calls do nothing.
 * @module
 */
import { Buffer } from "node:buffer";
import { type Figure, svgToPng } from "./deps.ts";

/** True when `PARLAB_QUICK=1` (CI): notebooks then use small sample counts and the val split. */
export function quickMode(): boolean {
  return Deno.env.get("PARLAB_QUICK") === "1";
}

function display(bundle: Record<string, string>): void {
  // deno-lint-ignore no-explicit-any
  const jupyter = (Deno as any).jupyter;
  if (jupyter?.display) jupyter.display(bundle, { raw: true });
}

/** Show PNG bytes inline. */
export function showPng(png: Uint8Array): void {
  display({ "image/png": Buffer.from(png).toString("base64") });
}

/**
 * Show a figure inline as PNG rendered at `scale` x its SVG size.
 * @example
 * await showFigure(scheduleFigure(par(makeGrid(24, 24), { m: 2 })));
 */
export async function showFigure(fig: Figure, scale = 1.25): Promise<void> {
  showPng(await svgToPng(fig.svg, scale));
}

/** Show Markdown inline (tables render on the repository page). */
export function showMarkdown(markdown: string): void {
  display({ "text/markdown": markdown });
}
