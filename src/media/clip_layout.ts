/**
 * Pixel layout of clips, with no native code: one clip out of a batch, and clips tiled side by
 * side into one clip (frame f of the result shows every clip's frame f), upscaled with
 * nearest-neighbour pixels so 24-pixel frames stay crisp when shown at 4x. Encoding the result
 * (animated WebP or GIF, PNG strips) is `src/viz/clips.ts`.
 * @module
 */
import { framesOf, type ImageBatch } from "./batches.ts";

/** Layout of {@link tileClips}. */
export interface TileOptions {
  /** Clips per row (default: all in one row). */
  cols?: number;
  /** Integer upscale factor of every frame (default 1). */
  scale?: number;
  /** Pixels between clips and around the border (default 0). */
  gap?: number;
  /** RGB of the gaps (default light grey, as mosaics). */
  background?: readonly [number, number, number];
}

/** Bytes of one clip (all its frames) of a batch. */
function clipBytes(batch: ImageBatch): number {
  return framesOf(batch) * batch.height * batch.width * 3;
}

/** Throw unless `data` holds exactly n x frames x height x width RGB pixels. */
function checkBatch(batch: ImageBatch): void {
  const want = batch.n * clipBytes(batch);
  if (batch.data.length !== want) {
    throw new RangeError(
      `clips: ${batch.data.length} bytes, expected n*frames*height*width*3 = ${want}`,
    );
  }
}

/** Throw unless `v` is an integer of at least `min` (the option's name in the message). */
function checkInteger(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) {
    throw new RangeError(`${name} must be an integer of at least ${min}, got ${v}`);
  }
}

/**
 * Clip `i` of a batch as a batch of one (a view of the same memory, no copy).
 * @example
 * const first = clipAt(clips, 0); // { n: 1, frames: 5, height: 24, width: 24, data }
 */
export function clipAt(batch: ImageBatch, i: number): ImageBatch {
  checkBatch(batch);
  if (!Number.isInteger(i) || i < 0 || i >= batch.n) {
    throw new RangeError(`clip ${i} is outside the batch of ${batch.n}`);
  }
  const per = clipBytes(batch);
  return { ...batch, n: 1, data: batch.data.subarray(i * per, (i + 1) * per) };
}

/**
 * Tile the clips of a batch into one clip (n = 1, same frames): frame f shows every clip's frame
 * f on a grid, clip i at row floor(i / cols), column i % cols; every frame pixel becomes a
 * scale x scale block. One clip with the defaults is a plain nearest-neighbour upscale.
 * @example
 * const big = tileClips(clips, { scale: 4 });                  // one clip, 4x
 * const all = tileClips(clips, { cols: 4, scale: 2, gap: 2 }); // clips playing side by side
 */
export function tileClips(batch: ImageBatch, options: TileOptions = {}): ImageBatch {
  checkBatch(batch);
  checkInteger("clips", batch.n, 1);
  const scale = options.scale ?? 1;
  const gap = options.gap ?? 0;
  const cols = Math.min(options.cols ?? batch.n, batch.n);
  checkInteger("scale", scale, 1);
  checkInteger("gap", gap, 0);
  checkInteger("cols", cols, 1);
  const [br, bg, bb] = options.background ?? [210, 210, 210];
  const frames = framesOf(batch);
  const rows = Math.ceil(batch.n / cols);
  const cellW = batch.width * scale;
  const cellH = batch.height * scale;
  const width = gap + cols * (cellW + gap);
  const height = gap + rows * (cellH + gap);
  const frameBytes = width * height * 3;
  const data = new Uint8Array(frames * frameBytes);
  for (let p = 0; p < frames * width * height; p++) {
    data[p * 3] = br;
    data[p * 3 + 1] = bg;
    data[p * 3 + 2] = bb;
  }
  for (let i = 0; i < batch.n; i++) {
    const x0 = gap + (i % cols) * (cellW + gap);
    const y0 = gap + Math.floor(i / cols) * (cellH + gap);
    for (let f = 0; f < frames; f++) {
      const src = (i * frames + f) * batch.height;
      for (let y = 0; y < cellH; y++) {
        const srcRow = (src + Math.floor(y / scale)) * batch.width;
        const dstRow = f * frameBytes + ((y0 + y) * width + x0) * 3;
        for (let x = 0; x < cellW; x++) {
          const s = (srcRow + Math.floor(x / scale)) * 3;
          const d = dstRow + x * 3;
          data[d] = batch.data[s];
          data[d + 1] = batch.data[s + 1];
          data[d + 2] = batch.data[s + 2];
        }
      }
    }
  }
  return { n: 1, frames, height, width, data };
}
