/**
 * Where the committed models live, and which one serves a configuration: the experiment model
 * (`emoji-<config>`) when it exists, else the tiny test model (`tiny-<config>`).
 * @module
 */
import type { LoadLimits } from "../runtime/files.ts";

/** The committed fixtures folder, `fixtures/`. */
export const FIXTURES_DIR: URL = new URL("../../fixtures/", import.meta.url);

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

/**
 * The limits a manifest at `url` loads its files under: as given, except that a committed model
 * (under `fixtures/`, whose models share `fixtures/emoji/codebook.npy.gz`) may reference any file
 * of the committed fixtures.
 */
export function referenceLimits(url: URL, limits: LoadLimits): LoadLimits {
  if (limits.root || limits.allowOutside || !url.href.startsWith(FIXTURES_DIR.href)) return limits;
  return { ...limits, root: FIXTURES_DIR };
}
