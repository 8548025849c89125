/**
 * File formats shared across the project: NumPy `.npy` (optionally gzip-compressed) and
 * deterministic gzip.
 * @module
 */
export {
  decodeNpy,
  encodeNpy,
  loadNpyFile,
  NPY_DTYPES,
  readNpy,
  saveNpyFile,
  shapeSize,
  writeNpy,
} from "./npy.ts";
export type { NpyArray, NpyArrayTypes, NpyData, NpyDtype } from "./npy.ts";
export { gunzip, gzip, GZIP_LEVEL, isGzip } from "./gzip.ts";
export { readBytes, readText, toUrl } from "./read.ts";
export { encodeHex, sha256Hex, sha256Mismatch } from "./hash.ts";
