/**
 * sha256 digests as lower-case hex, as manifests record them, and the check that a file matches.
 * @module
 */

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
  const hash = await sha256Hex(bytes);
  if (hash === expected) return null;
  return `${file}: sha256 ${hash} differs from the manifest's ${expected}. Fix: ${fix}`;
}
