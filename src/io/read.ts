/**
 * Read bytes from a local path, a file: URL, or an http(s): URL, so data files addressed with
 * `new URL(..., import.meta.url)` also load when the project is imported by URL.
 * @module
 */

/**
 * The bytes of `path`. Errors name the file.
 * @example
 * const bytes = await readBytes(new URL("../../fixtures/emoji/manifest.json", import.meta.url));
 */
export async function readBytes(path: string | URL): Promise<Uint8Array> {
  const name = path instanceof URL ? path.href : path;
  if (path instanceof URL && (path.protocol === "http:" || path.protocol === "https:")) {
    const res = await fetch(path).catch((err) => {
      throw new Error(`cannot read ${name}: ${(err as Error).message}`);
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`cannot read ${name}: HTTP ${res.status}`);
    }
    return new Uint8Array(await res.arrayBuffer());
  }
  try {
    return await Deno.readFile(path);
  } catch (err) {
    throw new Error(`cannot read ${name}: ${(err as Error).message}`);
  }
}

/** The UTF-8 text of `path` (see {@link readBytes}). */
export async function readText(path: string | URL): Promise<string> {
  return new TextDecoder().decode(await readBytes(path));
}

/**
 * A path or URL string as a URL: `file:`, `http:` and `https:` strings as they are, anything else
 * a path against the working directory.
 */
export function toUrl(location: string | URL): URL {
  if (location instanceof URL) return location;
  if (/^(file|https?):/.test(location)) return new URL(location);
  return new URL(location, `file://${Deno.cwd()}/`);
}
