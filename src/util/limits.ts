/**
 * Size limits checked before allocating: a manifest, schedule or flag that asks for more than
 * this machine-independent budget fails with a message that names the field, the memory it would
 * need and the fix, instead of a RangeError or an allocation failure deep in a loop.
 * @module
 */
import { ConfigError } from "./errors.ts";

/** The most cells one grid may have (F x H x W): 4,194,304, e.g. 64 frames of 256 x 256. */
export const MAX_GRID_CELLS = 1 << 22;

/** The most bytes one buffer parlab allocates for a request may take: 2 GiB. */
export const MAX_ALLOCATION_BYTES = 2 ** 31;

/** `1.5 GB`, `207 GB`, `12 MB`: a byte count for a message. */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KB", "MB", "GB", "TB", "PB"];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 || u === 0 ? Math.round(v) : v.toPrecision(3)} ${units[u]}`;
}

/**
 * Throw a {@link ConfigError} naming `field` when `bytes` exceed {@link MAX_ALLOCATION_BYTES}.
 * @param what what would be allocated, e.g. "the token grids of 90,000,000 images"
 * @param fix what to do instead
 */
export function checkAllocation(field: string, what: string, bytes: number, fix: string): void {
  if (!(bytes <= MAX_ALLOCATION_BYTES)) {
    throw new ConfigError(
      field,
      `${what} would need ${formatBytes(bytes)} of memory, over parlab's limit of ${
        formatBytes(MAX_ALLOCATION_BYTES)
      }`,
      fix,
    );
  }
}
