/**
 * Deterministic gzip: the same bytes in give the same bytes out on every machine and Deno version.
 *
 * Deno's `CompressionStream` hides its deflate implementation and level, which may change between
 * releases, so committed `.gz` fixtures would not rebuild byte for byte. The pure-JS `fflate`
 * (pinned in src/deps.ts) with a zero header mtime and a fixed level does.
 * @module
 */
import { gunzipSync, gzipSync } from "../deps/fflate.ts";

/** Compression level used for every `.gz` the project writes (fixed for reproducibility). */
export const GZIP_LEVEL = 9;

/**
 * Gzip `data` with a zero mtime, no file name and level {@link GZIP_LEVEL}.
 * @example
 * const gz = gzip(new TextEncoder().encode("hello"));
 */
export function gzip(data: Uint8Array): Uint8Array {
  return gzipSync(data, { level: GZIP_LEVEL, mtime: 0 });
}

/** True when `bytes` starts with the gzip magic number (0x1f 0x8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decompress gzip bytes; throws an Error that says the data is not valid gzip, or that it would
 * decompress to more than `maxBytes` (default 4 GiB; read from the gzip trailer before any
 * memory is taken, so a small file cannot ask for gigabytes unnoticed).
 * @example
 * gunzip(gzip(bytes)); // equals bytes
 */
export function gunzip(data: Uint8Array, maxBytes: number = 4 * 2 ** 30): Uint8Array {
  if (!isGzip(data)) throw new Error("not gzip data (missing 1f 8b magic bytes)");
  if (data.length >= 18) {
    // ISIZE: the uncompressed size mod 2^32, little-endian, in the last 4 bytes.
    const n = data.length;
    const size = (data[n - 4] | (data[n - 3] << 8) | (data[n - 2] << 16)) + data[n - 1] * 2 ** 24;
    if (size > maxBytes) {
      throw new Error(
        `gzip data would decompress to ${size} bytes, more than the limit of ${maxBytes}`,
      );
    }
  }
  try {
    return gunzipSync(data);
  } catch (err) {
    throw new Error(`corrupt gzip data: ${(err as Error).message}`);
  }
}
