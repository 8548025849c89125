/**
 * Reading the committed emoji token fixtures (fixtures/emoji/): the manifest, token and label
 * files, with every check naming what is wrong, and the convenience loaders the rest of the
 * project uses.
 * @module
 */
import { z } from "../deps/zod.ts";
import { loadLabelFile, loadTokenFile } from "./token_files.ts";
import { readText } from "../io/read.ts";
import { PatchKMeansTokenizer } from "../tokenizer/patch_kmeans.ts";

/** Folder of the committed fixtures, addressed relative to this module. */
export const EMOJI_FIXTURE_DIR = new URL("../../fixtures/emoji/", import.meta.url);

/** The two splits. */
export type EmojiSplit = "train" | "val";

const SplitCounts = z.object({
  total: z.number().int().nonnegative(),
  perClass: z.record(z.string(), z.number().int().nonnegative()),
  perSet: z.record(z.string(), z.number().int().nonnegative()),
});

/** Schema of fixtures/emoji/manifest.json. */
export const EmojiManifestSchema = z.object({
  format: z.literal("parlab-emoji-tokens/1"),
  classNames: z.array(z.string()).min(1).max(256),
  K: z.number().int().min(1).max(65536),
  patch: z.number().int().min(1),
  grid: z.object({ height: z.number().int().min(1), width: z.number().int().min(1) }),
  imageSize: z.number().int().min(1),
  psnrVal: z.number(),
  psnrValMeanPerImage: z.number(),
  psnrTrain: z.number(),
  sources: z.array(z.object({ package: z.string(), version: z.string(), images: z.string() })),
  split: z.object({ method: z.string(), valHashFraction: z.number() }),
  counts: z.object({
    train: SplitCounts,
    val: SplitCounts,
    skipped: z.number().int().nonnegative(),
  }),
  kmeans: z.object({
    init: z.string(),
    samplePatches: z.number().int(),
    iterations: z.number().int(),
    seed: z.number().int(),
    meanSquaredDistance: z.array(z.number()),
  }),
  files: z.record(z.string(), z.object({ sha256: z.string(), bytes: z.number().int() })),
});

/** Contents of fixtures/emoji/manifest.json. */
export type EmojiManifest = z.infer<typeof EmojiManifestSchema>;

/** Read and validate a fixture folder's manifest.json. */
export async function loadEmojiManifest(
  dir: string | URL = EMOJI_FIXTURE_DIR,
): Promise<EmojiManifest> {
  const path = new URL("manifest.json", asDirUrl(dir));
  const text = await readText(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path.pathname} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = EmojiManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${path.pathname}: field '${
        issue.path.join(".")
      }' ${issue.message}; rebuild with \`deno task data\``,
    );
  }
  return parsed.data;
}

/** A directory path or URL as a URL ending in "/". */
export function asDirUrl(dir: string | URL): URL {
  if (dir instanceof URL) return dir.href.endsWith("/") ? dir : new URL(`${dir.href}/`);
  const abs = dir.startsWith("/") ? dir : `${Deno.cwd()}/${dir}`;
  return new URL(`file://${abs.endsWith("/") ? abs : `${abs}/`}`);
}

/** One split of the emoji token data, ready for training or analysis. */
export interface EmojiDataset {
  /** n * height * width token ids, grid i at [i * height * width, (i + 1) * height * width). */
  tokens: Uint16Array;
  /** Number of pictures. */
  n: number;
  /** Grid rows (24). */
  height: number;
  /** Grid columns (24). */
  width: number;
  /** Class index of each picture, into `classNames`. */
  labels: Uint8Array | Uint16Array;
  /** Category names, e.g. "Smileys & Emotion". */
  classNames: string[];
  /** Codebook size K: every token is below it. */
  vocabSize: number;
}

/**
 * Load one split of the emoji fixtures (validated against the manifest).
 * @example
 * const val = await loadEmojiDataset("val");
 * console.log(val.n, val.height, val.width, val.classNames[val.labels[0]]);
 */
export async function loadEmojiDataset(
  split: EmojiSplit,
  dir: string | URL = EMOJI_FIXTURE_DIR,
): Promise<EmojiDataset> {
  if (split !== "train" && split !== "val") {
    throw new Error(`split must be "train" or "val", got ${JSON.stringify(split)}`);
  }
  const base = asDirUrl(dir);
  const manifest = await loadEmojiManifest(base);
  const grid = await loadTokenFile(new URL(`${split}.tokens.npy.gz`, base), {
    vocabSize: manifest.K,
    height: manifest.grid.height,
    width: manifest.grid.width,
  });
  const labels = await loadLabelFile(new URL(`${split}.labels.npy.gz`, base), {
    n: grid.n,
    numClasses: manifest.classNames.length,
  });
  return { ...grid, labels, classNames: manifest.classNames, vocabSize: manifest.K };
}

/**
 * Load the committed patch k-means codebook as a tokenizer (decodes fixture tokens to 48x48).
 * @example
 * const tok = await loadPatchTokenizer();
 * const pictures = await tok.decode({ n: 1, height: 24, width: 24, tokens: val.tokens.subarray(0, 576) });
 */
export async function loadPatchTokenizer(
  dir: string | URL = EMOJI_FIXTURE_DIR,
): Promise<PatchKMeansTokenizer> {
  const base = asDirUrl(dir);
  const manifest = await loadEmojiManifest(base);
  const tok = await PatchKMeansTokenizer.load(new URL("codebook.npy.gz", base));
  if (tok.vocabSize !== manifest.K || tok.downsample !== manifest.patch) {
    throw new Error(
      `codebook.npy.gz has K=${tok.vocabSize}, P=${tok.downsample} but manifest.json says K=${manifest.K}, P=${manifest.patch}; rebuild with \`deno task data\``,
    );
  }
  return tok;
}
