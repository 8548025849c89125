/**
 * sha256 digests as lower-case hex, as manifests record them, and the check that a file matches.
 * @module
 */
import { createHash } from "node:crypto";

/** Lower-case hex of `bytes`. */
export function encodeHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * sha256 of `bytes` as lower-case hex.
 * @example
 * await sha256Hex(new TextEncoder().encode("abc")); // "ba7816bf…"
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return encodeHex(
    new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)),
  );
}

/**
 * The message saying `file`'s bytes do not hash to `expected`, ending in `fix`; null when they do.
 * Callers throw it as their own error class.
 */
export async function sha256Mismatch(
  bytes: Uint8Array,
  file: string,
  expected: string,
  fix: string,
): Promise<string | null> {
  return sha256MismatchOf(await sha256Hex(bytes), file, expected, fix);
}

/**
 * An incremental sha256: feed chunks as they are read, then take the hex digest (a file is
 * hashed while it streams in, with no second pass over its bytes).
 * @example
 * const h = new Sha256Stream();
 * h.update(new TextEncoder().encode("ab"));
 * h.update(new TextEncoder().encode("c"));
 * h.hex(); // "ba7816bf…"
 */
export class Sha256Stream {
  #hash = createHash("sha256");

  /** Add the next chunk. */
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }

  /** The digest as lower-case hex (once; the stream is finished after). */
  hex(): string {
    return this.#hash.digest("hex");
  }
}

/**
 * The message saying a file hashed to `actual` rather than `expected`, ending in `fix`; null when
 * they agree. Callers throw it as their own error class.
 */
export function sha256MismatchOf(
  actual: string,
  file: string,
  expected: string,
  fix: string,
): string | null {
  if (actual === expected) return null;
  return `${file}: sha256 ${actual} differs from the manifest's ${expected}. Fix: ${fix}`;
}
