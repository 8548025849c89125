/**
 * Reading what a manifest names: the manifest JSON itself (given as the `.json` or the `.onnx`
 * beside it), and the files it references, checked against their sha256. Every ONNX consumer
 * (step models, tokenizers, feature extractors) and every codebook a manifest names loads
 * through here.
 *
 * The limits, each an option of {@link LoadLimits}:
 * - size: a manifest's JSON at most 16 MiB ({@link MAX_MANIFEST_BYTES}), a referenced file at
 *   most 4 GiB ({@link DEFAULT_MAX_BYTES}), and exactly the size the manifest declares where it
 *   declares one; an endless body or `/dev/zero` stops at the limit;
 * - time (http(s)): 60 s ({@link DEFAULT_TIMEOUT_MS}) without a byte from the server ends the
 *   read; a slow download that keeps moving goes on;
 * - integrity: sha256, hashed while the bytes stream in, checked where the manifest has one;
 * - place: a referenced file lies in the manifest's folder (a local manifest) or on its origin
 *   (a remote one), unless the caller passes `allowOutside: true`; `..` escapes, absolute paths
 *   and other origins are refused with a message naming the field, and a remote manifest never
 *   reaches a `file:` URL, whatever the options.
 * @module
 */
import {
  DEFAULT_MAX_BYTES,
  DEFAULT_TIMEOUT_MS,
  readBytes,
  type ReadOptions,
  toUrl,
  unescapePath,
} from "../io/read.ts";
import { sha256MismatchOf, Sha256Stream } from "../io/hash.ts";
import { ManifestError } from "../util/errors.ts";

export { DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_MS };

/** The most bytes a manifest's JSON may have by default: 16 MiB. */
export const MAX_MANIFEST_BYTES = 16 * 2 ** 20;

/** Limits and trust of a load; every model, tokenizer and feature loader takes these. */
export interface LoadLimits {
  /**
   * http(s): the longest wait, in milliseconds, for a response or for the next chunk of a body
   * (default 60 000).
   */
  timeoutMs?: number;
  /** The most bytes of one referenced file (graph, codebook; default 4 GiB). */
  maxBytes?: number;
  /** The most bytes of the manifest's JSON (default 16 MiB). */
  maxManifestBytes?: number;
  /**
   * Let a manifest reference files outside its folder (local) or origin (remote): absolute
   * paths, `..` escapes, other hosts. Only for manifests you trust. A remote manifest still never
   * reaches a `file:` URL.
   */
  allowOutside?: boolean;
  /**
   * The folder a local manifest's references must lie under (default: the manifest's own
   * folder), e.g. a model collection whose models share one codebook folder beside theirs.
   */
  root?: URL;
}

function isRemote(url: URL): boolean {
  return url.protocol === "http:" || url.protocol === "https:";
}

/** The folder a URL is in (its href up to the last `/`). */
export function folderOf(url: URL): URL {
  return new URL("./", url);
}

/**
 * The bytes of a file at a path or `file:` / `http(s):` URL, within `limits` (the referenced-file
 * limits: 4 GiB and 60 s by default); a failure is a {@link ManifestError} that names the file
 * and the fix (a missing permission a `PermissionError` naming the flag).
 */
export async function readFileBytes(
  url: URL,
  limits: LoadLimits & Pick<ReadOptions, "onChunk" | "expectedBytes"> = {},
): Promise<Uint8Array> {
  return await readBytes(url, {
    maxBytes: limits.maxBytes,
    timeoutMs: limits.timeoutMs,
    onChunk: limits.onChunk,
    expectedBytes: limits.expectedBytes,
  });
}

/**
 * Read a manifest's JSON. `location` is the manifest (`.json`) or the `.onnx` beside it (then
 * `<name>.json` is read). At most `limits.maxManifestBytes` (16 MiB) are read. Returns the
 * parsed JSON, where it was read from and its file name.
 */
export async function readManifestJson(
  location: string | URL,
  limits: LoadLimits = {},
): Promise<{ json: unknown; url: URL; name: string }> {
  let url = toUrl(location);
  if (url.pathname.endsWith(".onnx")) url = new URL(url.href.replace(/\.onnx$/, ".json"));
  const name = unescapePath(url.pathname.split("/").at(-1)!);
  const max = limits.maxManifestBytes ?? MAX_MANIFEST_BYTES;
  const bytes = await readBytes(url, {
    maxBytes: max,
    timeoutMs: limits.timeoutMs,
    limitName: "maxManifestBytes",
  });
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ManifestError(
      `${name}: not UTF-8 text, so not a JSON manifest. Fix: name the manifest (.json) or the ` +
        ".onnx beside it",
    );
  }
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
  /** The manifest field that names it, e.g. `onnx` or `tokenizer.codebook`, for messages. */
  field?: string;
  /** Its expected sha256 (hex); undefined skips the check. */
  sha256?: string;
  /** Its expected size in bytes, where the manifest declares one. */
  bytes?: number;
  /** What to do when the hash or the size differs (e.g. "re-export both"). */
  fix: string;
}

/**
 * Where a manifest at `base` may read `ref.file` from: the resolved URL, or a
 * {@link ManifestError} naming the field and the fix when it lies outside the manifest's folder
 * (local) or origin (remote) and `limits.allowOutside` is not set. A remote manifest never
 * reaches a `file:` URL (or any scheme other than http(s)).
 * @example
 * resolveReference(new URL("https://h/m/a.json"), { file: "a.onnx", fix: "" }); // https://h/m/a.onnx
 */
export function resolveReference(
  base: URL,
  ref: Pick<ReferencedFile, "file" | "field">,
  limits: LoadLimits = {},
): URL {
  const field = ref.field ?? "file";
  const where = unescapePath(base.pathname.split("/").at(-1) ?? base.href);
  const named = `${where}: field "${field}" (${JSON.stringify(ref.file)})`;
  const trust = "or load with allowOutside: true if you trust this manifest";
  const hasScheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(ref.file);
  let url: URL;
  try {
    url = new URL(ref.file, base);
  } catch {
    throw new ManifestError(`${named} is not a valid path or URL. Fix: correct the field`);
  }
  if (isRemote(base)) {
    if (!isRemote(url)) {
      throw new ManifestError(
        `${named} is a ${url.protocol} URL in a manifest read from ${base.origin}, and a remote ` +
          "manifest never reads local files. Fix: name the file relative to the manifest",
      );
    }
    if (url.origin !== base.origin && !limits.allowOutside) {
      throw new ManifestError(
        `${named} is on ${url.origin}, another origin than the manifest's ${base.origin}. ` +
          `Fix: name the file relative to the manifest, ${trust}`,
      );
    }
    return url;
  }
  if (limits.allowOutside) return url;
  const given = limits.root ?? folderOf(base);
  const root = given.href.endsWith("/") ? given : new URL(`${given.href}/`);
  const rootPath = unescapePath(root.pathname);
  if (hasScheme || ref.file.startsWith("/") || ref.file.startsWith("\\")) {
    throw new ManifestError(
      `${named} is an absolute ${hasScheme ? "URL" : "path"}; a manifest's files must lie in ` +
        `${rootPath}. Fix: put the file there and name it relative to the manifest, ${trust}`,
    );
  }
  if (url.protocol !== base.protocol || !url.href.startsWith(root.href)) {
    throw new ManifestError(
      `${named} points outside ${rootPath}, where a manifest's files must lie. ` +
        `Fix: put the file there and name it relative to the manifest, ${trust}`,
    );
  }
  return url;
}

/**
 * Read a file a manifest references (relative to the manifest's URL, confined as
 * {@link resolveReference} says), hashing it while it streams in, and check its sha256 and
 * declared size.
 * @example
 * const bytes = await readReferencedFile(manifestUrl, { file: m.onnx, field: "onnx", sha256: m.sha256, fix });
 */
export async function readReferencedFile(
  base: URL,
  ref: ReferencedFile,
  limits: LoadLimits = {},
): Promise<Uint8Array> {
  const url = resolveReference(base, ref, limits);
  const hash = ref.sha256 !== undefined ? new Sha256Stream() : undefined;
  const bytes = await readFileBytes(url, {
    ...limits,
    expectedBytes: ref.bytes,
    onChunk: hash ? (chunk) => hash.update(chunk) : undefined,
  });
  if (hash && ref.sha256 !== undefined) {
    const mismatch = sha256MismatchOf(hash.hex(), ref.file, ref.sha256, ref.fix);
    if (mismatch) throw new ManifestError(mismatch);
  }
  return bytes;
}
