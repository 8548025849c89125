/**
 * Where the emoji pictures come from: the npm packages `emoji-datasource-twitter` and
 * `emoji-datasource-google` (pinned in deno.json, installed into node_modules/ by `deno install`),
 * their `emoji.json` metadata, and the deterministic train/val split.
 * @module
 */
import { z } from "../deps/zod.ts";

/** Version of both emoji-datasource packages the fixtures are built from (pinned in deno.json). */
export const EMOJI_DATASOURCE_VERSION = "16.0.0";

/** The drawing sets used, in the order pictures of one emoji are listed. */
export const EMOJI_SETS = ["twitter", "google"] as const;
/** One drawing set. */
export type EmojiSet = typeof EMOJI_SETS[number];

/** Category left out: skin-tone swatches and hair parts, not pictures of things. */
export const EXCLUDED_CATEGORY = "Component";

/**
 * Fraction of the 32-bit hash range of base code points that goes to validation. Skin-tone
 * families (up to 26 pictures per base emoji) fall on either side by chance; 0.15 puts about 10%
 * of the pictures (12.9% of base emoji) in val for emoji-datasource 16.0.0.
 */
export const DEFAULT_VAL_HASH_FRACTION = 0.15;

/** One picture to load. */
export interface EmojiItem {
  /** Drawing set. */
  set: EmojiSet;
  /** Code points of this picture, e.g. "1F385-1F3FB" (a skin-tone variant). */
  unified: string;
  /** Code points of the base emoji (without skin tone); the split is decided on this. */
  baseUnified: string;
  /** Category name from emoji.json, e.g. "Smileys & Emotion". */
  category: string;
  /** Absolute path of the 64x64 PNG. */
  file: string;
}

const Variation = z.object({
  unified: z.string(),
  image: z.string(),
});

const Entry = z.object({
  unified: z.string(),
  image: z.string(),
  category: z.string(),
  sort_order: z.number(),
  skin_variations: z.record(z.string(), Variation).optional(),
});

const EmojiJson = z.array(Entry);
const CategoriesJson = z.record(z.string(), z.unknown());

/**
 * Folder of an installed emoji-datasource package: `<project>/node_modules/emoji-datasource-<set>/`
 * (deno.json has `"nodeModulesDir": "auto"`). Throws a message telling to run `deno install`.
 */
export async function emojiPackageDir(set: EmojiSet, nodeModules?: string | URL): Promise<string> {
  const base = nodeModules ?? new URL("../../node_modules/", import.meta.url);
  const dir = new URL(`emoji-datasource-${set}/`, base instanceof URL ? base : `file://${base}/`);
  const pkgPath = new URL("package.json", dir);
  let text: string;
  try {
    text = await Deno.readTextFile(pkgPath);
  } catch {
    throw new Error(
      `npm package emoji-datasource-${set} not found at ${dir.pathname}; run \`deno install\` in the project root`,
    );
  }
  const version = z.object({ version: z.string() }).parse(JSON.parse(text)).version;
  if (version !== EMOJI_DATASOURCE_VERSION) {
    throw new Error(
      `emoji-datasource-${set} is version ${version}, expected ${EMOJI_DATASOURCE_VERSION}; run \`deno install\``,
    );
  }
  return dir.pathname;
}

/**
 * Class names: the categories of the package's categories.json in its order, minus "Component".
 */
export async function emojiClassNames(packageDir: string): Promise<string[]> {
  const json = CategoriesJson.parse(
    JSON.parse(await Deno.readTextFile(`${packageDir}categories.json`)),
  );
  return Object.keys(json).filter((c) => c !== EXCLUDED_CATEGORY);
}

/**
 * List every picture of one set: each emoji (in emoji.json sort_order) followed by its skin-tone
 * variants (by variant key), skipping the "Component" category. Files missing from the package
 * are listed anyway; loading reports them.
 */
export async function listEmojiItems(set: EmojiSet, packageDir: string): Promise<EmojiItem[]> {
  const parsed = EmojiJson.safeParse(
    JSON.parse(await Deno.readTextFile(`${packageDir}emoji.json`)),
  );
  if (!parsed.success) {
    throw new Error(
      `${packageDir}emoji.json is not in the expected format: ${parsed.error.message}`,
    );
  }
  const entries = [...parsed.data].sort((a, b) =>
    a.sort_order - b.sort_order || (a.unified < b.unified ? -1 : a.unified > b.unified ? 1 : 0)
  );
  const dir = `${packageDir}img/${set}/64/`;
  const items: EmojiItem[] = [];
  for (const e of entries) {
    if (e.category === EXCLUDED_CATEGORY) continue;
    const base = { set, baseUnified: e.unified, category: e.category };
    items.push({ ...base, unified: e.unified, file: dir + e.image });
    const variants = Object.keys(e.skin_variations ?? {}).sort();
    for (const key of variants) {
      const v = e.skin_variations![key];
      items.push({ ...base, unified: v.unified, file: dir + v.image });
    }
  }
  return items;
}

/** 32-bit FNV-1a of a string's UTF-16 code units, then murmur3's finalizer for good low bits. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Split of an emoji, decided by its base code points only, so every drawing set and every skin
 * tone of one emoji lands on the same side.
 * @example
 * splitOf("1F600"); // "train" or "val", the same on every run and machine
 */
export function splitOf(
  baseUnified: string,
  valHashFraction = DEFAULT_VAL_HASH_FRACTION,
): "train" | "val" {
  return hash32(baseUnified.toUpperCase()) / 0x100000000 < valHashFraction ? "val" : "train";
}
