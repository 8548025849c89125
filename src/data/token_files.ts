/**
 * Token files: `tokens.npy` (uint16, `[N, H, W]` for pictures or `[N, F, H, W]` for clips) and
 * `labels.npy` (uint8, or uint16 for more than 256 classes), as the fixtures, `deno task sample`,
 * the experiments and the tokenizer write them and the entropy probes read them; and token
 * folders (`manifest.json` + both files, as `deno task tokenize` writes them) read back whole by
 * {@link loadTokenSet}. Every check that fails names the file and what was expected.
 * @module
 */
import { z } from "../deps/zod.ts";
import { loadNpyFile, type NpyArray } from "../io/npy.ts";
import { ManifestError } from "../util/errors.ts";

/** Token grids read from a file. */
export interface TokenFile {
  /** n * frames * height * width codes. */
  tokens: Uint16Array;
  /** Number of grids (clips when `frames` > 1). */
  n: number;
  /** Frames per grid (1 for a `[N, H, W]` file). */
  frames: number;
  /** Grid rows. */
  height: number;
  /** Grid columns. */
  width: number;
}

/** What {@link loadTokenFile} checks the file against. */
export interface TokenFileExpectation {
  /** Every id must be below this (the codebook size). */
  vocabSize: number;
  /** Required frames (any when absent; a `[N, H, W]` file has 1). */
  frames?: number;
  /** Required grid rows (any when absent). */
  height?: number;
  /** Required grid columns (any when absent). */
  width?: number;
}

function fileName(path: string | URL): string {
  return path instanceof URL ? path.pathname : path;
}

/**
 * Check a token array: dtype uint16, shape `[N, H, W]` or `[N, F, H, W]` (matching `expect`
 * where given), every id below `expect.vocabSize`. Throws a {@link ManifestError} naming the
 * failed check and `name`.
 */
export function checkTokenArray(
  array: NpyArray,
  expect: TokenFileExpectation,
  name = "tokens",
): TokenFile {
  if (array.dtype !== "uint16") {
    throw new ManifestError(`${name}: dtype is ${array.dtype}, expected uint16`);
  }
  const s = array.shape;
  if (s.length !== 3 && s.length !== 4) {
    throw new ManifestError(
      `${name}: shape is (${s.join(", ")}), expected 3 dimensions (N, height, width) ` +
        "or 4 (N, frames, height, width)",
    );
  }
  const [n, frames, height, width] = s.length === 3 ? [s[0], 1, s[1], s[2]] : s;
  for (const [field, got] of [["frames", frames], ["height", height], ["width", width]] as const) {
    const want = expect[field];
    if (want !== undefined && got !== want) {
      throw new ManifestError(
        `${name}: shape is (${s.join(", ")}), expected grid ${field} ${want}`,
      );
    }
  }
  const tokens = array.data as Uint16Array;
  const perFrame = height * width;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] >= expect.vocabSize) {
      const cell = i % perFrame;
      const frame = Math.floor(i / perFrame) % frames;
      throw new ManifestError(
        `${name}: token id ${tokens[i]} at grid ${Math.floor(i / (perFrame * frames))}, ${
          frames > 1 ? `frame ${frame}, ` : ""
        }row ${Math.floor(cell / width)}, col ${cell % width} is not below K = ${expect.vocabSize}`,
      );
    }
  }
  return { tokens, n, frames, height, width };
}

/**
 * Read a token file (`.npy` or `.npy.gz`, uint16 `[N, H, W]` or `[N, F, H, W]`) and check dtype,
 * shape and that every id is below K. Errors say which check failed.
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
 * Read a label file (uint8 `[N]`, or uint16 for models with more than 256 classes) and check its
 * length and that every label is a class index.
 */
export async function loadLabelFile(
  path: string | URL,
  expect: { n: number; numClasses: number },
): Promise<Uint8Array | Uint16Array> {
  const name = fileName(path);
  const array = await loadNpyFile(path);
  if (array.dtype !== "uint8" && array.dtype !== "uint16") {
    throw new ManifestError(`${name}: dtype is ${array.dtype}, expected uint8 or uint16`);
  }
  if (array.shape.length !== 1 || array.shape[0] !== expect.n) {
    throw new ManifestError(
      `${name}: shape is (${array.shape.join(", ")}), expected (${expect.n},)`,
    );
  }
  const labels = array.data as Uint8Array | Uint16Array;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= expect.numClasses) {
      throw new ManifestError(
        `${name}: label ${labels[i]} at ${i} is not below ${expect.numClasses} classes`,
      );
    }
  }
  return labels;
}

/** Labels in the narrowest dtype that holds `numClasses` classes (uint8 up to 256). */
export function labelArray(
  labels: ArrayLike<number>,
  numClasses: number,
): { dtype: "uint8"; data: Uint8Array } | { dtype: "uint16"; data: Uint16Array } {
  return numClasses <= 256
    ? { dtype: "uint8", data: Uint8Array.from(labels) }
    : { dtype: "uint16", data: Uint16Array.from(labels) };
}

/** `format` of a token folder's manifest.json, as `deno task tokenize` writes it. */
export const TOKEN_FOLDER_FORMAT = "parlab-tokens/1";

/** Zod schema of a token folder's `manifest.json` (the fields the readers rely on; more pass). */
export const TokenFolderManifestSchema = z.object({
  format: z.literal(TOKEN_FOLDER_FORMAT),
  count: z.number().int().positive(),
  grid: z.object({
    frames: z.number().int().positive().optional(),
    height: z.number().int().positive(),
    width: z.number().int().positive(),
  }),
  vocabSize: z.number().int().min(1).max(65536),
  classNames: z.array(z.string()).min(1).max(65536),
  tokens: z.string().min(1).default("tokens.npy"),
  labels: z.string().min(1).default("labels.npy"),
  tokenizer: z.object({
    kind: z.string().min(1),
    name: z.string(),
    /** Where the tokenizer file was (absolute path or URL) when the folder was written. */
    path: z.string().min(1),
    /** sha256 of that file (the VQ manifest, or the codebook). */
    sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits"),
    downsample: z.number().int().positive(),
  }).passthrough(),
  size: z.number().int().positive(),
}).passthrough();

/** A validated token folder manifest. */
export type TokenFolderManifest = z.infer<typeof TokenFolderManifestSchema>;

/**
 * A token folder read into memory: the shape of the entropy probes' `TokenSet` (tokens
 * row-major `[count, cells]`, grid, vocabSize, labels, classNames), plus its manifest.
 */
export interface TokenFolder {
  /** Codes, row-major [count, frames * height * width]. */
  tokens: Uint16Array;
  /** Number of grids N. */
  count: number;
  /** Grid of every sample. */
  grid: { frames?: number; height: number; width: number };
  /** Codebook size K. */
  vocabSize: number;
  /** Class index per grid. */
  labels: Uint8Array | Uint16Array;
  /** Class names, indexed by label. */
  classNames: string[];
  /** The validated manifest.json. */
  manifest: TokenFolderManifest;
  /** The folder, as a URL ending in a slash. */
  dir: URL;
}

function folderUrl(dir: string | URL): URL {
  if (dir instanceof URL) return dir.href.endsWith("/") ? dir : new URL(`${dir.href}/`);
  const abs = dir.startsWith("/") ? dir : `${Deno.cwd()}/${dir}`;
  const url = new URL(`file://${abs.split("/").map(encodeURIComponent).join("/")}`);
  return url.href.endsWith("/") ? url : new URL(`${url.href}/`);
}

/**
 * Read a token folder as `deno task tokenize` writes it (`manifest.json` with format
 * `parlab-tokens/1`, `tokens.npy` uint16 `[N, H, W]`, `labels.npy` uint8/uint16 `[N]`), checking
 * the manifest's fields, the shapes, that every id is below the vocabulary size and every label a
 * class. Each failed check is a {@link ManifestError} naming the file and the fix. The result
 * is a `TokenSet` for the entropy probes as it is.
 * @example
 * const set = await loadTokenSet("out/tokens");
 * await runDependencyAnalysis({ tokens: set, outDir: "results/dependency" });
 */
export async function loadTokenSet(dir: string | URL): Promise<TokenFolder> {
  const base = folderUrl(dir);
  const where = decodeURIComponent(base.pathname);
  const fix = "Fix: point at a folder written by `deno task tokenize` (manifest.json, " +
    "tokens.npy, labels.npy), or rerun it into that folder";
  let text: string;
  try {
    text = await Deno.readTextFile(new URL("manifest.json", base));
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "not found" : (err as Error).message;
    throw new ManifestError(`${where}manifest.json: ${why}. ${fix}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(
      `${where}manifest.json: not valid JSON (${(err as Error).message}). ${fix}`,
    );
  }
  const parsed = TokenFolderManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.map(String).join(".") || "(root)";
    throw new ManifestError(`${where}manifest.json: field "${field}": ${issue.message}. ${fix}`);
  }
  const m = parsed.data;
  const file = await loadTokenFile(new URL(m.tokens, base), {
    vocabSize: m.vocabSize,
    frames: m.grid.frames ?? 1,
    height: m.grid.height,
    width: m.grid.width,
  });
  if (file.n !== m.count) {
    throw new ManifestError(
      `${where}${m.tokens}: holds ${file.n} grids, but manifest.json says count ${m.count}. ${fix}`,
    );
  }
  const labels = await loadLabelFile(new URL(m.labels, base), {
    n: m.count,
    numClasses: m.classNames.length,
  });
  return {
    tokens: file.tokens,
    count: m.count,
    grid: m.grid.frames && m.grid.frames > 1
      ? { frames: m.grid.frames, height: m.grid.height, width: m.grid.width }
      : { height: m.grid.height, width: m.grid.width },
    vocabSize: m.vocabSize,
    labels,
    classNames: m.classNames,
    manifest: m,
    dir: base,
  };
}
