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
  parseNpyFile,
  readNpy,
  saveNpyFile,
  shapeSize,
  writeNpy,
} from "./npy.ts";
export type { NpyArray, NpyArrayTypes, NpyData, NpyDtype } from "./npy.ts";
export { gunzip, gzip, GZIP_LEVEL, isGzip } from "./gzip.ts";
export {
  DEFAULT_MAX_BYTES,
  DEFAULT_TIMEOUT_MS,
  readBytes,
  type ReadOptions,
  readText,
  toUrl,
  unescapePath,
} from "./read.ts";
export { encodeHex, sha256Hex, sha256Mismatch, sha256MismatchOf, Sha256Stream } from "./hash.ts";
