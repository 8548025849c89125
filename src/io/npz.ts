/**
 * NumPy `.npz` archives (a zip of `.npy` files, stored or deflated), as `numpy.savez` writes them
 * and as ADM's reference batches (`VIRTUAL_imagenet256_labeled.npz`: `arr_0` pictures, `mu`,
 * `sigma`, `mu_s`, `sigma_s`) come.
 * @module
 */
import { unzipSync, zipSync } from "../deps/fflate.ts";
import { type NpyArray, readNpy, writeNpy } from "./npy.ts";
import { ManifestError } from "../util/errors.ts";

/**
 * Read the arrays of an `.npz` archive, by name without `.npy`. `only` limits which are decoded
 * (the pictures of a reference batch are large; the statistics are not); `names`, when given,
 * receives the names of all arrays in the archive.
 * @example
 * const { mu, sigma } = readNpz(await Deno.readFile("ref.npz"), { only: ["mu", "sigma"] });
 */
export function readNpz(
  bytes: Uint8Array,
  options: { only?: string[]; name?: string; names?: string[] } = {},
): Record<string, NpyArray> {
  const name = options.name ?? "archive";
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    throw new ManifestError(
      `${name}: not an .npz file (no zip signature). Fix: pass a file written by numpy.savez`,
    );
  }
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (f) => {
        const array = f.name.replace(/\.npy$/, "");
        options.names?.push(array); // every array in the archive, decoded or not
        return !options.only || options.only.includes(array);
      },
    });
  } catch (err) {
    throw new ManifestError(
      `${name}: the zip cannot be read (${(err as Error).message}). Fix: re-download or re-save it`,
    );
  }
  const out: Record<string, NpyArray> = {};
  for (const [file, data] of Object.entries(files)) {
    try {
      out[file.replace(/\.npy$/, "")] = readNpy(data);
    } catch (err) {
      throw new ManifestError(`${name}: ${file}: ${(err as Error).message}`);
    }
  }
  return out;
}

/** Write arrays as an `.npz` archive (stored, like `numpy.savez`). */
export function writeNpz(arrays: Record<string, NpyArray>): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 }]> = {};
  for (const [k, v] of Object.entries(arrays)) files[`${k}.npy`] = [writeNpy(v), { level: 0 }];
  return zipSync(files);
}
