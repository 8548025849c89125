/**
 * SVG composition: the {@link Figure} every visualizer returns, and the one place that writes raw
 * SVG documents: figures stacked under a title, placed side by side, or picture rows with labels.
 * Plot draws the charts (see `render.ts`); everything that assembles their SVG lives here.
 * @module
 */
import { Buffer } from "node:buffer";

/** A rendered figure: the SVG markup and its pixel size. */
export interface Figure {
  /** Standalone SVG document (with xmlns), ready to save or embed. */
  svg: string;
  /** Width in CSS pixels. */
  width: number;
  /** Height in CSS pixels. */
  height: number;
}

/** Font of every figure: one that Debian's fonts-dejavu-core provides (no system-ui server-side). */
export const FONT_FAMILY = "DejaVu Sans, sans-serif";

/** Height of the band a figure title takes above the content. */
const TITLE_BAND = 24;

/** Escape text for SVG character data and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Wrap SVG content in a standalone document of the given pixel size (xmlns, viewBox, font),
 * optionally on a background colour.
 * @example
 * const fig = svgDocument(40, 20, '<circle cx="10" cy="10" r="8"/>');
 */
export function svgDocument(
  width: number,
  height: number,
  body: string,
  options: { background?: string } = {},
): Figure {
  const background = options.background
    ? `<rect width="${width}" height="${height}" fill="${options.background}"/>`
    : "";
  return {
    svg: `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}">${background}${body}</svg>`,
    width,
    height,
  };
}

/** A figure's SVG moved to (x, y) inside a bigger document. */
function placed(fig: Figure, x: number, y: number): string {
  return `<g transform="translate(${x},${y})">${fig.svg}</g>`;
}

/** The bold title line at the top of a composed figure. */
function titleLine(title: string): string {
  return `<text x="6" y="17" font-size="14" font-weight="bold">${escapeXml(title)}</text>`;
}

/**
 * Stack figures vertically (left-aligned) into one standalone SVG, under an optional title line.
 * @example
 * const fig = vstack([colourBar, heatMap], "Conditional entropy");
 */
export function vstack(parts: readonly Figure[], title?: string): Figure {
  if (parts.length === 0) throw new Error("vstack needs at least one figure");
  const width = Math.max(...parts.map((p) => p.width));
  let y = title ? TITLE_BAND : 0;
  const body = parts.map((p) => {
    const g = placed(p, 0, y);
    y += p.height;
    return g;
  }).join("");
  return svgDocument(width, y, (title ? titleLine(title) : "") + body);
}

/** Options of {@link hstack}. */
export interface HstackOptions {
  /** Pixels between neighbouring figures (default 8). */
  gap?: number;
  /** Fill the whole canvas with this colour first (default: transparent). */
  background?: string;
}

/**
 * Place figures side by side (top-aligned) in one standalone SVG.
 * @example
 * const fig = hstack([left, right], { background: "white" });
 */
export function hstack(parts: readonly Figure[], options: HstackOptions = {}): Figure {
  if (parts.length === 0) throw new Error("hstack needs at least one figure");
  const gap = options.gap ?? 8;
  const height = Math.max(...parts.map((p) => p.height));
  let x = 0;
  const body = parts.map((p) => {
    const g = placed(p, x, 0);
    x += p.width + gap;
    return g;
  }).join("");
  return svgDocument(x - gap, height, body, options);
}

/** One labelled row of pictures for {@link labelledRowsFigure}. */
export interface PictureRow {
  /** Text left of the pictures. */
  label: string;
  /** PNG bytes of the row (e.g. a one-row mosaic). */
  png: Uint8Array;
  /** Its pixel width. */
  width: number;
  /** Its pixel height. */
  height: number;
}

/**
 * Picture rows under each other on white, a text label left of each and a title on top; the PNGs
 * are embedded (drawn pixelated, so small token mosaics stay sharp when scaled).
 * @example
 * const fig = labelledRowsFigure([{ label: "raster", png, width: 200, height: 52 }], "Samples");
 */
export function labelledRowsFigure(
  rows: readonly PictureRow[],
  title: string,
  labelWidth = 190,
): Figure {
  const gap = 4;
  const width = labelWidth + Math.max(...rows.map((r) => r.width)) + 8;
  let y = TITLE_BAND + 2; // the title line, and a little air above the first row
  const body = rows.map((r) => {
    const src = `data:image/png;base64,${Buffer.from(r.png).toString("base64")}`;
    const part =
      `<text x="6" y="${y + r.height / 2 + 4}" font-size="12">${escapeXml(r.label)}</text>` +
      `<image x="${labelWidth}" y="${y}" width="${r.width}" height="${r.height}" href="${src}" style="image-rendering:pixelated"/>`;
    y += r.height + gap;
    return part;
  }).join("");
  return svgDocument(width, y + 4, titleLine(title) + body, { background: "white" });
}
