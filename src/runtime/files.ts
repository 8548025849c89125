/**
 * Reading what a manifest names: the manifest JSON itself (given as the `.json` or the `.onnx`
 * beside it), and the files it references, checked against their sha256. Every ONNX consumer
 * (step models, tokenizers, feature extractors) loads through here.
 * @module
 */
import { readBytes, toUrl } from "../io/read.ts";
import { sha256Mismatch } from "../io/hash.ts";
import { ManifestError } from "../util/errors.ts";

/**
 * The bytes of a file at a path or `file:` / `http(s):` URL; a failure is a
 * {@link ManifestError} that names the file and the fix.
 */
export async function readFileBytes(url: URL): Promise<Uint8Array> {
  try {
    return await readBytes(url);
  } catch (err) {
    throw new ManifestError(`${(err as Error).message}. Fix: check the path or URL`);
  }
}

/**
 * Read a manifest's JSON. `location` is the manifest (`.json`) or the `.onnx` beside it (then
 * `<name>.json` is read). Returns the parsed JSON, where it was read from and its file name.
 */
export async function readManifestJson(
  location: string | URL,
): Promise<{ json: unknown; url: URL; name: string }> {
  let url = toUrl(location);
  if (url.pathname.endsWith(".onnx")) url = new URL(url.href.replace(/\.onnx$/, ".json"));
  const name = url.pathname.split("/").at(-1)!;
  const text = new TextDecoder().decode(await readFileBytes(url));
  try {
    return { json: JSON.parse(text), url, name };
  } catch (err) {
    throw new ManifestError(
      `${name}: not valid JSON (${(err as Error).message}). Fix: re-export it`,
    );
  }
}

/** What {@link readReferencedFile} checks. */
export interface ReferencedFile {
  /** The file name as the manifest writes it (relative to the manifest). */
  file: string;
  /** Its expected sha256 (hex); undefined skips the check. */
  sha256?: string;
  /** What to do when the hash differs (e.g. "re-export both"). */
  fix: string;
}

/**
 * Read a file a manifest references (relative to the manifest's URL) and check its sha256.
 * @example
 * const bytes = await readReferencedFile(manifestUrl, { file: m.onnx, sha256: m.sha256, fix });
 */
export async function readReferencedFile(base: URL, ref: ReferencedFile): Promise<Uint8Array> {
  const bytes = await readFileBytes(new URL(ref.file, base));
  if (ref.sha256 !== undefined) {
    const mismatch = await sha256Mismatch(bytes, ref.file, ref.sha256, ref.fix);
    if (mismatch) throw new ManifestError(mismatch);
  }
  return bytes;
}
