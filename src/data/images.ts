/**
 * Picture loading with sharp: PNG -> composite on white -> resize -> RGB bytes. A file that cannot
 * be read or decoded is skipped and reported, never a crash.
 * @module
 */
import { loadSharp } from "../deps/sharp.ts";
import type { ImageBatch } from "../media/batches.ts";

/** A picture that could not be used, and why. */
export interface SkippedImage {
  /** Index in the input list. */
  index: number;
  /** File path or label of the input. */
  source: string;
  /** Error message. */
  reason: string;
}

/** Result of {@link loadPictures}. */
export interface LoadedPictures {
  /** The pictures that loaded, in input order. */
  images: ImageBatch;
  /** Input index of each loaded picture. */
  kept: number[];
  /** Inputs that failed. */
  skipped: SkippedImage[];
}

/**
 * Decode one PNG (or any format sharp reads), flatten it onto white and resize it to
 * `size` x `size` RGB bytes (lanczos3, as sharp's default).
 */
export async function pictureToRgb(bytes: Uint8Array, size: number): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(bytes, { failOn: "error" })
    .flatten({ background: { r: 255, g: 255, b: 255 } })
    .resize(size, size, { fit: "fill", kernel: "lanczos3" })
    .toColourspace("srgb")
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== size || info.height !== size || info.channels !== 3) {
    throw new Error(
      `decoded to ${info.width}x${info.height}x${info.channels}, expected ${size}x${size}x3`,
    );
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Load pictures from files (paths) or in-memory bytes into one {@link ImageBatch} of
 * `size` x `size`. Runs `concurrency` decodes at a time; failures are collected in `skipped`.
 * `onProgress` is called with the number of inputs finished so far.
 * @example
 * const { images, skipped } = await loadPictures(paths, 48);
 */
export async function loadPictures(
  sources: (string | Uint8Array)[],
  size: number,
  concurrency = 8,
  onProgress?: (done: number) => void,
): Promise<LoadedPictures> {
  const results: (Uint8Array | Error)[] = new Array(sources.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < sources.length) {
      const i = next++;
      const src = sources[i];
      try {
        const bytes = typeof src === "string" ? await Deno.readFile(src) : src;
        results[i] = await pictureToRgb(bytes, size);
      } catch (err) {
        results[i] = err instanceof Error ? err : new Error(String(err));
      }
      onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  const kept: number[] = [];
  const skipped: SkippedImage[] = [];
  const per = size * size * 3;
  results.forEach((r, i) => {
    if (r instanceof Error) {
      const source = typeof sources[i] === "string" ? sources[i] as string : `input #${i}`;
      skipped.push({ index: i, source, reason: r.message.split("\n")[0] });
    } else kept.push(i);
  });
  const data = new Uint8Array(kept.length * per);
  kept.forEach((i, j) => data.set(results[i] as Uint8Array, j * per));
  return { images: { n: kept.length, height: size, width: size, data }, kept, skipped };
}

/**
 * Resize every picture of a batch to width x height (sharp; `cubic` is Catmull-Rom, PIL's
 * BICUBIC, which the paper's evaluation uses to go from 384 to 256 pixels). Clips are resized
 * frame by frame.
 * @example
 * const eval256 = await resizeImages(pictures, 256, 256);
 */
export async function resizeImages(
  images: ImageBatch,
  width: number,
  height: number,
  kernel: "nearest" | "cubic" | "mitchell" | "lanczos2" | "lanczos3" | "linear" = "cubic",
): Promise<ImageBatch> {
  const frames = images.frames ?? 1;
  const count = images.n * frames;
  const per = images.height * images.width * 3;
  if (images.data.length !== count * per) {
    throw new RangeError(`pictures: ${images.data.length} bytes, expected n*frames*height*width*3`);
  }
  if (images.width === width && images.height === height) return images;
  const sharp = await loadSharp();
  const out = new Uint8Array(count * width * height * 3);
  for (let i = 0; i < count; i++) {
    const { data, info } = await sharp(images.data.subarray(i * per, (i + 1) * per), {
      raw: { width: images.width, height: images.height, channels: 3 },
    }).resize(width, height, { fit: "fill", kernel }).removeAlpha().raw().toBuffer({
      resolveWithObject: true,
    });
    if (info.channels !== 3 || data.length !== width * height * 3) {
      throw new Error(
        `sharp resized picture ${i} to ${info.width}x${info.height}x${info.channels}`,
      );
    }
    out.set(data, i * width * height * 3);
  }
  return { n: images.n, frames, height, width, data: out };
}
