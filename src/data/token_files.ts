/**
 * Token files: `tokens.npy` (uint16, `[N, H, W]` for pictures or `[N, F, H, W]` for clips) and
 * `labels.npy` (uint8, or uint16 for more than 256 classes), as the fixtures, `deno task sample`,
 * the experiments and the tokenizer write them and the entropy probes read them. Every check
 * that fails names the file and what was expected.
 * @module
 */
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
