/**
 * Read bytes from a local path, a file: URL, or an http(s): URL, so data files addressed with
 * `new URL(..., import.meta.url)` also load when the project is imported by URL.
 *
 * Every read is bounded: at most {@link ReadOptions.maxBytes} bytes (an endless body, `/dev/zero`
 * or a file larger than declared stops at the limit instead of growing memory), and an http(s)
 * read whose server stalls ends after {@link ReadOptions.timeoutMs} without a byte. Bytes stream
 * through {@link ReadOptions.onChunk} as they arrive (a streaming hash). Failures are one-line
 * {@link ManifestError}s naming the file and the fix; a missing Deno permission is a
 * {@link PermissionError} naming the flag to add.
 * @module
 */
import { PermissionError } from "../deps/_native.ts";
import { ManifestError } from "../util/errors.ts";
import { formatBytes } from "../util/limits.ts";
import { filePermissionError, isNotCapable } from "../util/atomic.ts";

/** Default {@link ReadOptions.maxBytes}: 4 GiB. */
export const DEFAULT_MAX_BYTES = 4 * 2 ** 30;

/** Default {@link ReadOptions.timeoutMs}: 60 s. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** Options of {@link readBytes}. */
export interface ReadOptions {
  /** The most bytes to accept (default {@link DEFAULT_MAX_BYTES}, 4 GiB). */
  maxBytes?: number;
  /**
   * The size the file must have (a manifest's declared size): a file of another size is an
   * error, found before reading where the size is known up front.
   */
  expectedBytes?: number;
  /**
   * http(s) only: the longest wait, in milliseconds, for the response or for the next chunk of
   * its body (default {@link DEFAULT_TIMEOUT_MS}, 60 s). A slow download that keeps moving goes
   * on; a stalled server ends with an error naming this option.
   */
  timeoutMs?: number;
  /** Called with each chunk as it arrives, in order (e.g. to hash while reading). */
  onChunk?: (chunk: Uint8Array) => void;
  /** What the limits are called where the caller sets them, for the fix (default `maxBytes`). */
  limitName?: string;
}

/** `%xx` escapes decoded (a malformed one left as it is): a URL path as a person reads it. */
export function unescapePath(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A local path or file: URL as the path a user would type. */
function localPath(path: string | URL): string {
  return path instanceof URL ? unescapePath(path.pathname) : path;
}

/** `host:port` of a URL as Deno's `--allow-net` writes it. */
function netScope(url: URL): string {
  return url.host;
}

function tooLarge(name: string, size: number | string, max: number, limitName: string): string {
  return `cannot read ${name}: ${size} bytes is more than the limit of ${max} bytes (${
    formatBytes(max)
  }). Fix: check the file, or raise ${limitName} if it really is that large`;
}

function wrongSize(name: string, got: number | string, want: number): ManifestError {
  return new ManifestError(
    `cannot read ${name}: it has ${got} bytes but the manifest declares ${want}. ` +
      "Fix: the file and its manifest do not belong together; fetch or re-export both",
  );
}

/** Chunks gathered up to a limit (into one buffer when the size is known up front). */
class Gather {
  #chunks: Uint8Array[] = [];
  #size = 0;
  #buffer: Uint8Array | null = null;
  constructor(
    readonly name: string,
    readonly max: number,
    readonly limitName: string,
    readonly expected: number | undefined,
    readonly onChunk?: (chunk: Uint8Array) => void,
  ) {}

  /** Add a chunk; throws once the total passes the limit (or the declared size). */
  add(chunk: Uint8Array): void {
    this.#size += chunk.length;
    if (this.expected !== undefined && this.#size > this.expected) {
      throw wrongSize(this.name, `more than ${this.expected}`, this.expected);
    }
    if (this.#size > this.max) {
      throw new ManifestError(
        tooLarge(this.name, `more than ${this.max}`, this.max, this.limitName),
      );
    }
    this.onChunk?.(chunk);
    const buf = this.#buffer;
    if (buf && this.#size <= buf.length) buf.set(chunk, this.#size - chunk.length);
    else {
      if (buf) {
        // More than announced: fall back to chunks.
        this.#chunks.push(buf.subarray(0, this.#size - chunk.length));
        this.#buffer = null;
      }
      this.#chunks.push(chunk);
    }
  }

  /** Expect `n` bytes (a Content-Length): gather into one buffer, with no copy at the end. */
  presize(n: number): void {
    if (this.#size === 0 && n > 0 && n <= this.max) this.#buffer = new Uint8Array(n);
  }

  /** All bytes, checked against the declared size. */
  bytes(): Uint8Array {
    if (this.expected !== undefined && this.#size !== this.expected) {
      throw wrongSize(this.name, this.#size, this.expected);
    }
    if (this.#buffer) return this.#buffer.subarray(0, this.#size);
    if (this.#chunks.length === 1) return this.#chunks[0];
    const out = new Uint8Array(this.#size);
    let o = 0;
    for (const c of this.#chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/** Largest read from a regular file at once. */
const LOCAL_CHUNK = 1 << 24;
/** Chunk size for devices, pipes and growing files. */
const STREAM_CHUNK = 1 << 20;

async function readLocal(path: string | URL, name: string, g: Gather): Promise<Uint8Array> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (isNotCapable(err)) {
      throw filePermissionError("read", localPath(path), err);
    }
    throw new ManifestError(
      `cannot read ${name}: ${(err as Error).message.split("\n")[0]}. Fix: check the path or URL`,
    );
  }
  try {
    const info = await file.stat();
    if (info.isDirectory) {
      throw new ManifestError(`cannot read ${name}: it is a folder. Fix: name a file`);
    }
    // A regular file's size is known: refuse before reading when it is over the limit or differs
    // from the declared size. Devices and pipes (/dev/zero) are read chunk by chunk up to it.
    if (info.isFile && info.size > 0) {
      if (g.expected !== undefined && info.size !== g.expected) {
        throw wrongSize(name, info.size, g.expected);
      }
      if (info.size > g.max) throw new ManifestError(tooLarge(name, info.size, g.max, g.limitName));
    }
    if (info.isFile && info.size > 0) {
      // One buffer of the stated size, filled in place.
      const buf = new Uint8Array(info.size);
      let filled = 0;
      while (filled < info.size) {
        const n = await file.read(buf.subarray(filled, Math.min(info.size, filled + LOCAL_CHUNK)));
        if (n === null) break;
        filled += n;
      }
      g.add(filled === info.size ? buf : buf.subarray(0, filled));
    }
    // Then whatever follows (all of a device or pipe, or a file that grew), chunk by chunk.
    for (;;) {
      const buf = new Uint8Array(STREAM_CHUNK);
      const n = await file.read(buf);
      if (n === null) break;
      g.add(n === STREAM_CHUNK ? buf : buf.slice(0, n));
    }
    return g.bytes();
  } catch (err) {
    if (err instanceof ManifestError) throw err;
    throw new ManifestError(
      `cannot read ${name}: ${(err as Error).message.split("\n")[0]}. Fix: check the path or URL`,
    );
  } finally {
    file.close();
  }
}

async function readRemote(url: URL, g: Gather, timeoutMs: number): Promise<Uint8Array> {
  const name = url.href;
  const abort = new AbortController();
  let waitingFor = "response";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(), timeoutMs);
  };
  const stalled = () =>
    new ManifestError(
      `cannot read ${name}: no ${waitingFor} within ${timeoutMs / 1000} s (the server stalled). ` +
        "Fix: check the server and the network, or raise timeoutMs",
    );
  arm();
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: abort.signal });
    } catch (err) {
      if (abort.signal.aborted) throw stalled();
      if (isNotCapable(err)) {
        throw new PermissionError(
          `cannot read ${name}: ${(err as Error).message.split("\n")[0]}. ` +
            `Fix: run deno with --allow-net=${netScope(url)} (or --allow-net)`,
        );
      }
      throw new ManifestError(
        `cannot read ${name}: ${(err as Error).message.split("\n")[0]}. Fix: check the URL ` +
          "and the network",
      );
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new ManifestError(`cannot read ${name}: HTTP ${res.status}. Fix: check the URL`);
    }
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (Number.isFinite(declared) && res.headers.get("content-encoding") === null) {
      if (g.expected !== undefined && declared !== g.expected) {
        await res.body?.cancel().catch(() => {});
        throw wrongSize(name, declared, g.expected);
      }
      if (declared > g.max) {
        await res.body?.cancel().catch(() => {});
        throw new ManifestError(tooLarge(name, declared, g.max, g.limitName));
      }
      g.presize(declared);
    }
    if (!res.body) return g.bytes();
    waitingFor = "data";
    const reader = res.body.getReader();
    try {
      for (;;) {
        arm();
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (err) {
          if (abort.signal.aborted) throw stalled();
          throw new ManifestError(
            `cannot read ${name}: the download broke off (${
              (err as Error).message.split("\n")[0]
            }). Fix: check the server and the network, then retry`,
          );
        }
        if (next.done) break;
        g.add(next.value);
      }
    } catch (err) {
      await reader.cancel().catch(() => {});
      throw err;
    }
    return g.bytes();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The bytes of `path`, bounded (see the module doc). Errors name the file and the fix.
 * @example
 * const bytes = await readBytes(new URL("../../fixtures/emoji/manifest.json", import.meta.url));
 * const json = await readBytes("https://example.org/m.json", { maxBytes: 1 << 24, timeoutMs: 10_000 });
 */
export async function readBytes(
  path: string | URL,
  options: ReadOptions = {},
): Promise<Uint8Array> {
  const name = path instanceof URL ? path.href : path;
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const g = new Gather(
    name,
    max,
    options.limitName ?? "maxBytes",
    options.expectedBytes,
    options.onChunk,
  );
  if (path instanceof URL && (path.protocol === "http:" || path.protocol === "https:")) {
    return await readRemote(path, g, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }
  if (path instanceof URL && path.protocol !== "file:") {
    throw new ManifestError(
      `cannot read ${name}: ${path.protocol} URLs are not supported. Fix: use a path, a file: ` +
        "or an http(s): URL",
    );
  }
  return await readLocal(path, name, g);
}

/** The UTF-8 text of `path` (see {@link readBytes}). */
export async function readText(path: string | URL, options: ReadOptions = {}): Promise<string> {
  return new TextDecoder().decode(await readBytes(path, options));
}

/**
 * A path or URL string as a URL: `file:`, `http:` and `https:` strings as they are, anything else
 * a path against the working directory.
 */
export function toUrl(location: string | URL): URL {
  if (location instanceof URL) return location;
  if (/^(file|https?):/.test(location)) return new URL(location);
  // A path: `%`, `#` and `?` are characters of the name, not URL syntax.
  const escaped = location.replace(/[%#?]/g, encodeURIComponent);
  if (location.startsWith("/")) return new URL(`file://${escaped}`);
  let cwd: string;
  try {
    cwd = Deno.cwd();
  } catch (err) {
    if (isNotCapable(err)) throw filePermissionError("read", ".", err);
    throw err;
  }
  return new URL(escaped, `file://${cwd.replace(/[%#?]/g, encodeURIComponent)}/`);
}
