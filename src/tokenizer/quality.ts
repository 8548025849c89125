/**
 * Reconstruction quality of a tokenizer: PSNR between pictures and their decoded tokens.
 * @module
 */
import type { ImageBatch } from "../media/batches.ts";

/** PSNR of a reconstruction, in dB (peak 255). */
export interface PsnrResult {
  /** From the mean squared error over every value of every picture. */
  psnr: number;
  /** Mean over pictures of each picture's own PSNR (capped at 100 dB for exact pictures). */
  meanPerImage: number;
}

/**
 * Compare two batches of the same shape.
 * @example
 * const { psnr } = psnrOf(images, await tok.decode(await tok.encode(images)));
 */
export function psnrOf(a: ImageBatch, b: ImageBatch): PsnrResult {
  if (
    a.n !== b.n || a.height !== b.height || a.width !== b.width || a.data.length !== b.data.length
  ) {
    throw new RangeError("psnrOf needs two batches of the same shape");
  }
  const per = a.height * a.width * 3;
  let total = 0;
  let sumPsnr = 0;
  for (let i = 0; i < a.n; i++) {
    let s = 0;
    for (let j = i * per; j < (i + 1) * per; j++) {
      const d = a.data[j] - b.data[j];
      s += d * d;
    }
    total += s;
    sumPsnr += toPsnr(s / per);
  }
  return { psnr: toPsnr(total / (a.n * per)), meanPerImage: sumPsnr / a.n };
}

function toPsnr(mse: number): number {
  return mse === 0 ? 100 : Math.min(100, 10 * Math.log10((255 * 255) / mse));
}
