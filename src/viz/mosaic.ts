/**
 * Picture mosaics: a batch of pictures (or token grids decoded by a tokenizer) laid out on a grid
 * and saved as one PNG, upscaled with nearest-neighbour pixels so small pictures stay crisp.
 * @module
 */
import { loadSharp } from "../deps/sharp.ts";
import { asFrames, framesOf, type ImageBatch, type TokenGridsLike } from "../media/batches.ts";
import type { Tokenizer } from "../tokenizer/types.ts";

/** Layout of a mosaic. */
export interface MosaicOptions {
  /** Pictures per row (default 8). */
  cols?: number;
  /** Integer upscale factor of every picture (default 2). */
  scale?: number;
  /** Pixels between pictures and around the border (default 2). */
  gap?: number;
  /** RGB of the gaps (default light grey). */
  background?: [number, number, number];
}

/**
 * Lay pictures out row by row into one RGB picture (an {@link ImageBatch} with n = 1). Clips
 * (`frames` > 1) are laid out one clip per row, its frames left to right (a frame strip).
 * @example
 * const sheet = mosaicImage(images, { cols: 10, scale: 3 });
 */
export function mosaicImage(batch: ImageBatch, options: MosaicOptions = {}): ImageBatch {
  const images = asFrames(batch);
  const perRow = framesOf(batch) > 1 ? framesOf(batch) : options.cols ?? 8;
  const cols = Math.max(1, Math.min(perRow, Math.max(1, images.n)));
  const scale = options.scale ?? 2;
  const gap = options.gap ?? 2;
  const [br, bg, bb] = options.background ?? [210, 210, 210];
  if (!Number.isInteger(scale) || scale < 1) {
    throw new RangeError(`scale must be a positive integer`);
  }
  const rows = Math.max(1, Math.ceil(images.n / cols));
  const cellW = images.width * scale;
  const cellH = images.height * scale;
  const width = gap + cols * (cellW + gap);
  const height = gap + rows * (cellH + gap);
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    data[p * 3] = br;
    data[p * 3 + 1] = bg;
    data[p * 3 + 2] = bb;
  }
  for (let i = 0; i < images.n; i++) {
    const x0 = gap + (i % cols) * (cellW + gap);
    const y0 = gap + Math.floor(i / cols) * (cellH + gap);
    for (let y = 0; y < cellH; y++) {
      const sy = Math.floor(y / scale);
      for (let x = 0; x < cellW; x++) {
        const s = ((i * images.height + sy) * images.width + Math.floor(x / scale)) * 3;
        const d = ((y0 + y) * width + x0 + x) * 3;
        data[d] = images.data[s];
        data[d + 1] = images.data[s + 1];
        data[d + 2] = images.data[s + 2];
      }
    }
  }
  return { n: 1, height, width, data };
}

/** Encode one RGB picture (n = 1) as PNG bytes. */
export async function rgbToPng(image: ImageBatch): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const buf = await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: 3 },
  }).png().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * A batch of pictures as one PNG mosaic.
 * @example
 * await Deno.writeFile("out/pictures.png", await imagesToMosaic(images, { cols: 8 }));
 */
export async function imagesToMosaic(
  images: ImageBatch,
  options: MosaicOptions = {},
): Promise<Uint8Array> {
  return await rgbToPng(mosaicImage(images, options));
}

/**
 * Decode token grids with a tokenizer and return them as one PNG mosaic.
 * @example
 * const png = await tokensToMosaic(samples, await loadPatchTokenizer(), { cols: 8, scale: 3 });
 */
export async function tokensToMosaic(
  tokens: TokenGridsLike,
  tokenizer: Tokenizer,
  options: MosaicOptions = {},
): Promise<Uint8Array> {
  return await imagesToMosaic(await tokenizer.decode(tokens), options);
}

/**
 * Interleave two batches of the same shape (a0, b0, a1, b1, ...), e.g. originals and their
 * reconstructions, so an even `cols` shows them side by side.
 */
export function interleaveImages(a: ImageBatch, b: ImageBatch): ImageBatch {
  if (a.n !== b.n || a.height !== b.height || a.width !== b.width) {
    throw new RangeError("interleaveImages needs two batches of the same shape");
  }
  const per = a.height * a.width * 3;
  const data = new Uint8Array(2 * a.n * per);
  for (let i = 0; i < a.n; i++) {
    data.set(a.data.subarray(i * per, (i + 1) * per), 2 * i * per);
    data.set(b.data.subarray(i * per, (i + 1) * per), (2 * i + 1) * per);
  }
  return { n: 2 * a.n, height: a.height, width: a.width, data };
}
