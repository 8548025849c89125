/**
 * Clips as files people can look at: animated WebP or GIF (one clip, or several playing side by
 * side) and PNG frame strips (each clip's frames left to right, clips stacked, optionally with a
 * label left of each row). The pixel layout is `src/media/clip_layout.ts`; this module encodes.
 * The same clip and options always give the same bytes.
 * @module
 */
import { loadSharp } from "../deps/sharp.ts";
import { framesOf, type ImageBatch } from "../media/batches.ts";
import { clipAt, tileClips, type TileOptions } from "../media/clip_layout.ts";
import { labelledRowsFigure } from "./compose.ts";
import { mosaicImage, rgbToPng } from "./mosaic.ts";
import { svgToPng } from "./render.ts";

/** The animated formats {@link encodeAnimation} writes. */
export const ANIMATION_FORMATS = ["webp", "gif"] as const;

/** An animated image format: `webp` (lossless, exact pixels) or `gif` (256-colour palette). */
export type AnimationFormat = typeof ANIMATION_FORMATS[number];

/** Options of {@link encodeAnimation}: the format and timing, and how clips are tiled. */
export interface AnimationOptions extends TileOptions {
  /** `webp` (default) or `gif`. */
  format?: AnimationFormat;
  /** Frames per second (default 4), above 0 and at most 50 (GIF counts delays in 1/100 s). */
  fps?: number;
  /** Times the animation plays; 0 (default) repeats it forever. */
  loop?: number;
}

/** The MIME type of an animated format (for data: URIs and notebook display). */
export function animationMime(format: AnimationFormat): string {
  return format === "webp" ? "image/webp" : "image/gif";
}

/**
 * Encode clips as one animated image: a single clip as it is, several tiled side by side (`cols`,
 * `gap`) so they play together; `scale` upscales with nearest-neighbour pixels. WebP is lossless,
 * so its frames decode to the exact pixels; GIF quantises to a palette of at most 256
 * colours, so its pixels come back close, not exact.
 * @example
 * const webp = await encodeAnimation(clipAt(clips, 0), { fps: 4, scale: 4 });
 * const gif = await encodeAnimation(clips, { format: "gif", cols: 4, scale: 2, gap: 2 });
 */
export async function encodeAnimation(
  clips: ImageBatch,
  options: AnimationOptions = {},
): Promise<Uint8Array> {
  const format = options.format ?? "webp";
  const fps = options.fps ?? 4;
  const loop = options.loop ?? 0;
  if (!(ANIMATION_FORMATS as readonly string[]).includes(format)) {
    throw new RangeError(`format must be one of ${ANIMATION_FORMATS.join(", ")}, got ${format}`);
  }
  if (!Number.isFinite(fps) || fps <= 0 || fps > 50) {
    throw new RangeError(`fps must be above 0 and at most 50, got ${fps}`);
  }
  if (!Number.isInteger(loop) || loop < 0 || loop > 65535) {
    throw new RangeError(`loop must be an integer 0..65535 (0: forever), got ${loop}`);
  }
  const clip = tileClips(clips, options);
  const frames = framesOf(clip);
  const sharp = await loadSharp();
  // The frames stacked top to bottom, one page each: how libvips holds an animation.
  const image = sharp(clip.data, {
    raw: { width: clip.width, height: clip.height * frames, channels: 3, pageHeight: clip.height },
  });
  // One delay per frame: a single number would set the first frame's only (sharp 0.35).
  const delay = new Array<number>(frames).fill(Math.round(1000 / fps));
  const buf = format === "webp"
    ? await image.webp({ lossless: true, loop, delay }).toBuffer()
    : await image.gif({ loop, delay }).toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Options of {@link clipStrips}. */
export interface StripOptions {
  /** Integer upscale factor of every frame (default 2). */
  scale?: number;
  /** Pixels between frames, between clips and around the border (default 2). */
  gap?: number;
  /** RGB of the gaps (default light grey). */
  background?: [number, number, number];
  /** One label per clip, drawn left of its row (default: no labels, just the pixels). */
  labels?: readonly string[];
  /** Title line above labelled rows (default none). */
  title?: string;
  /** Pixels left of the rows for the labels (default: wide enough for the longest label). */
  labelWidth?: number;
}

/**
 * Pixels for a column of labels: 12-pixel DejaVu Sans averages under 7.5 pixels a character (the
 * bold 14-pixel title under 9.5), and the text starts 6 pixels in; at least 40 so a short label
 * keeps some air.
 */
export function labelColumn(labels: readonly string[]): number {
  const longest = Math.max(0, ...labels.map((l) => l.length));
  return Math.max(40, Math.ceil(12 + 7.5 * longest));
}

/**
 * Clips as one PNG of frame strips: each clip's frames left to right, clips stacked top to
 * bottom. With `labels`, each row gets its label on the left (on white, like the labelled
 * mosaics); the frames keep their exact pixels either way.
 * @example
 * await Deno.writeFile("strips.png", await clipStrips(clips, { labels: ["slide", "zoom"] }));
 */
export async function clipStrips(
  clips: ImageBatch,
  options: StripOptions = {},
): Promise<Uint8Array> {
  if (clips.n < 1) throw new RangeError("clipStrips needs at least one clip");
  const layout = {
    scale: options.scale ?? 2,
    gap: options.gap ?? 2,
    background: options.background,
  };
  // cols 1: still pictures (one frame a clip) are stacked as well, one a row.
  if (!options.labels) return await rgbToPng(mosaicImage(clips, { ...layout, cols: 1 }));
  if (options.labels.length !== clips.n) {
    throw new RangeError(`labels: ${options.labels.length} for ${clips.n} clips`);
  }
  const rows = [];
  for (let i = 0; i < clips.n; i++) {
    const strip = mosaicImage(clipAt(clips, i), { ...layout, cols: 1 });
    rows.push({
      label: options.labels[i],
      png: await rgbToPng(strip),
      width: strip.width,
      height: strip.height,
    });
  }
  // A title longer than labels and strips together widens the label column, so it is not cut.
  const title = options.title ?? "";
  const titleFits = Math.ceil(12 + 9.5 * title.length) - rows[0].width - 8;
  const labelWidth = options.labelWidth ?? Math.max(labelColumn(options.labels), titleFits);
  // At scale 1 the embedded strips are drawn at their own size, pixel for pixel.
  const figure = labelledRowsFigure(rows, title, labelWidth);
  return await svgToPng(figure.svg, 1);
}
