/**
 * Where the committed models live, and which one serves a configuration: the experiment model
 * (`emoji-<config>`) when it exists, else the tiny test model (`tiny-<config>`).
 * @module
 */

/** The committed models folder, `fixtures/models/`. */
export const FIXTURE_MODELS_DIR: URL = new URL("../../fixtures/models/", import.meta.url);

/**
 * The manifest of the best committed model for a configuration (`raster`, `par4`, ...): the
 * first of `prefixes` (default `emoji-`, then `tiny-`) whose `<prefix><config>.json` is in
 * `dir`, or null when none is.
 * @example
 * const path = await fixtureModel("par4"); // .../fixtures/models/emoji-par4.json
 */
export async function fixtureModel(
  config: string,
  dir: string | URL = FIXTURE_MODELS_DIR,
  prefixes: readonly string[] = ["emoji-", "tiny-"],
): Promise<URL | null> {
  const base = dir instanceof URL
    ? dir
    : new URL(dir.endsWith("/") ? dir : `${dir}/`, `file://${Deno.cwd()}/`);
  for (const prefix of prefixes) {
    const url = new URL(`${prefix}${config}.json`, base);
    try {
      if (url.protocol !== "file:" || (await Deno.stat(url)).isFile) return url;
    } catch {
      // try the next
    }
  }
  return null;
}
