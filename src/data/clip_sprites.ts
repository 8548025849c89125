/**
 * Sprite pictures for the clips: emoji PNGs decoded by sharp to RGBA at a fixed side (alpha kept,
 * unlike the still pictures, which are flattened onto white before they are resized), then
 * premultiplied for the renderer in clip_motion.ts.
 * @module
 */
import { loadSharp } from "../deps/sharp.ts";
import { type Sprite, spriteFromRgba } from "./clip_motion.ts";

/**
 * Decode one picture and resize it to `texels` x `texels` straight RGBA bytes (lanczos3, which
 * sharp applies to premultiplied colour, so transparent edges do not darken).
 */
export async function pictureToRgba(bytes: Uint8Array, texels: number): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(bytes, { failOn: "error" })
    .resize(texels, texels, { fit: "fill", kernel: "lanczos3" })
    .toColourspace("srgb")
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== texels || info.height !== texels || info.channels !== 4) {
    throw new Error(
      `decoded to ${info.width}x${info.height}x${info.channels}, expected ${texels}x${texels}x4`,
    );
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Load picture files as sprites, `concurrency` decodes at a time. A file that cannot be read is
 * an error naming it: the clips are planned before loading, so a missing picture cannot be
 * skipped without changing every clip after it.
 * @example
 * const sprites = await loadSprites(["node_modules/.../1f600.png"], 48);
 */
export async function loadSprites(
  files: string[],
  texels: number,
  concurrency = 4,
  onProgress?: (done: number) => void,
): Promise<Map<string, Sprite>> {
  const out = new Map<string, Sprite>();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      let rgba: Uint8Array;
      try {
        rgba = await pictureToRgba(await Deno.readFile(file), texels);
      } catch (err) {
        throw new Error(
          `cannot load emoji picture ${file}: ${(err as Error).message.split("\n")[0]}; ` +
            "reinstall the packages with `deno install`",
        );
      }
      out.set(file, spriteFromRgba(rgba, texels));
      onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return out;
}
