/**
 * Inline display in Deno Jupyter notebooks: figures as SVG (vector) or as PNG (smaller for dense
 * heat maps, so committed notebooks stay light), PNG bytes, animated clips (WebP or GIF in an
 * HTML `<img>`) and Markdown. Outside a Jupyter kernel nothing is shown, so the same code runs in
 * scripts and tests. Each returns nothing, so a cell ending with one does not also print the
 * figure's source as text.
 * @module
 */
import { Buffer } from "node:buffer";
import type { ImageBatch } from "../media/batches.ts";
import {
  type AnimationFormat,
  animationMime,
  type AnimationOptions,
  encodeAnimation,
} from "./clips.ts";
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

/**
 * The HTML that shows an animated image inline: an `<img>` whose source is a `data:` URI (Jupyter
 * has no MIME bundle for WebP, and HTML plays GIF and WebP alike in every notebook front end).
 * Drawn pixelated, so upscaled token pictures stay crisp when the page zooms.
 */
export function animationHtml(bytes: Uint8Array, format: AnimationFormat, alt = "clip"): string {
  const src = `data:${animationMime(format)};base64,${Buffer.from(bytes).toString("base64")}`;
  const safeAlt = alt.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  return `<img src="${src}" alt="${safeAlt}" style="image-rendering:pixelated">`;
}

/**
 * Show animated image bytes (from {@link encodeAnimation}) inline.
 * @example
 * showAnimation(await encodeAnimation(clip, { scale: 4 }), "webp");
 */
export function showAnimation(bytes: Uint8Array, format: AnimationFormat, alt?: string): void {
  display({ "text/html": animationHtml(bytes, format, alt) });
}

/**
 * Encode clips as an animation and show it inline: one clip, or several playing side by side
 * (`cols`, `gap`). It encodes outside a kernel too, so a script meets the same errors a
 * notebook would.
 * @example
 * await showClips(await tokenizer.decode(samples), { cols: 4, scale: 3, gap: 2 });
 */
export async function showClips(clips: ImageBatch, options: AnimationOptions = {}): Promise<void> {
  const format = options.format ?? "webp";
  showAnimation(await encodeAnimation(clips, { ...options, format }), format);
}

/** Show Markdown inline (tables render on the repository page). */
export function showMarkdown(markdown: string): void {
  display({ "text/markdown": markdown });
}
