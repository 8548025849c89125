/**
 * Reading the committed emoji token fixtures (fixtures/emoji/): the manifest, token and label
 * files, with every check naming what is wrong, and the convenience loaders the rest of the
 * project uses.
 * @module
 */
import { z } from "../deps/zod.ts";
import { loadNpyFile, type NpyArray } from "../io/npy.ts";
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

/** Token grids read from a file. */
export interface TokenFile {
  /** n * height * width codes. */
  tokens: Uint16Array;
  /** Number of grids. */
  n: number;
  /** Grid rows. */
  height: number;
  /** Grid columns. */
  width: number;
}

/** What {@link loadTokenFile} checks the file against. */
export interface TokenFileExpectation {
  /** Every id must be below this (the codebook size). */
  vocabSize: number;
  /** Required grid rows (any when absent). */
  height?: number;
  /** Required grid columns (any when absent). */
  width?: number;
}

function fileName(path: string | URL): string {
  return path instanceof URL ? path.pathname : path;
}

/**
 * Check a token array: dtype uint16, shape [N, H, W] (matching `expect` where given), every id
 * below `expect.vocabSize`. Throws an Error naming the failed check and `name`.
 */
export function checkTokenArray(
  array: NpyArray,
  expect: TokenFileExpectation,
  name = "tokens",
): TokenFile {
  if (array.dtype !== "uint16") {
    throw new Error(`${name}: dtype is ${array.dtype}, expected uint16`);
  }
  const s = array.shape;
  if (s.length !== 3) {
    throw new Error(
      `${name}: shape is (${s.join(", ")}), expected 3 dimensions (N, height, width)`,
    );
  }
  const [n, height, width] = s;
  if (expect.height !== undefined && height !== expect.height) {
    throw new Error(`${name}: shape is (${s.join(", ")}), expected grid height ${expect.height}`);
  }
  if (expect.width !== undefined && width !== expect.width) {
    throw new Error(`${name}: shape is (${s.join(", ")}), expected grid width ${expect.width}`);
  }
  const tokens = array.data as Uint16Array;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] >= expect.vocabSize) {
      const cell = i % (height * width);
      throw new Error(
        `${name}: token id ${tokens[i]} at grid ${Math.floor(i / (height * width))}, row ${
          Math.floor(cell / width)
        }, col ${cell % width} is not below K = ${expect.vocabSize}`,
      );
    }
  }
  return { tokens, n, height, width };
}

/**
 * Read a token file (`.npy` or `.npy.gz`, uint16 [N, H, W]) and check dtype, shape and that every
 * id is below K. Errors say which check failed.
 * @example
 * const grids = await loadTokenFile("fixtures/emoji/val.tokens.npy.gz", { vocabSize: 1024, height: 24, width: 24 });
 */
export async function loadTokenFile(
  path: string | URL,
  expect: TokenFileExpectation,
): Promise<TokenFile> {
  return checkTokenArray(await loadNpyFile(path), expect, fileName(path));
}

/**
 * Read a label file (uint8 [N]) and check its length and that every label is a class index.
 */
export async function loadLabelFile(
  path: string | URL,
  expect: { n: number; numClasses: number },
): Promise<Uint8Array> {
  const name = fileName(path);
  const array = await loadNpyFile(path);
  if (array.dtype !== "uint8") throw new Error(`${name}: dtype is ${array.dtype}, expected uint8`);
  if (array.shape.length !== 1 || array.shape[0] !== expect.n) {
    throw new Error(`${name}: shape is (${array.shape.join(", ")}), expected (${expect.n},)`);
  }
  const labels = array.data as Uint8Array;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= expect.numClasses) {
      throw new Error(
        `${name}: label ${labels[i]} at ${i} is not below ${expect.numClasses} classes`,
      );
    }
  }
  return labels;
}

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
  labels: Uint8Array;
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
