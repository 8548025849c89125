/**
 * Token data as the entropy probes see it: N token grids (row-major [N, cells]) with optional
 * class labels, validated once, then transposed to one contiguous column per cell so that the
 * pair engine reads each cell's N codes from cache.
 * @module
 */
import { z } from "../deps/zod.ts";
import { cellCount, type GridLike } from "../media/grid.ts";

/**
 * Bad input to the entropy probes (token sets, matrices, options): the message names the field
 * and the fix. Entry points print it alone (no stack trace).
 */
export class EntropyInputError extends Error {
  /**
   * Token grids or options the entropy probes cannot use.
   * @param message one line naming the field and the fix
   */
  constructor(message: string) {
    super(message);
    this.name = "EntropyInputError";
  }
}

/** A set of token grids with optional labels (what the data loaders produce). */
export interface TokenSet {
  /** Codes, row-major [count, cells]; every code in [0, vocabSize). */
  tokens: ArrayLike<number>;
  /** Number of grids N. */
  count: number;
  /** Grid of every sample. */
  grid: GridLike;
  /** Codebook size K: codes lie in [0, K). At most 65536. */
  vocabSize: number;
  /** Optional class index per grid (length N). */
  labels?: ArrayLike<number>;
  /** Optional class names, indexed by label. */
  classNames?: string[];
}

/** Token columns: cell j's N codes at `columns[j*rows .. (j+1)*rows)`. */
export interface ColumnTable {
  /** Column-major codes. */
  columns: Uint16Array;
  /** Number of samples N. */
  rows: number;
  /** Number of cells C. */
  cells: number;
  /** Alphabet size: codes lie in [0, alphabet). */
  alphabet: number;
}

const gridSchema = z.object({
  frames: z.number().int().positive().optional(),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
});

const headerSchema = z.object({
  count: z.number().int().positive(),
  grid: gridSchema,
  vocabSize: z.number().int().min(1).max(65536),
});

/**
 * Check a {@link TokenSet}: shapes agree, every code lies in [0, vocabSize), labels match N.
 * Throws an Error naming the field and the fix; returns the set unchanged when valid.
 */
export function validateTokenSet(ts: TokenSet): TokenSet {
  const head = headerSchema.safeParse({ count: ts.count, grid: ts.grid, vocabSize: ts.vocabSize });
  if (!head.success) {
    const issue = head.error.issues[0];
    throw new EntropyInputError(
      `token set: field "${issue.path.join(".")}" ${issue.message} ` +
        `(count must be a positive integer, grid {frames?, height, width} positive integers, ` +
        `vocabSize an integer in 1..65536)`,
    );
  }
  const cells = cellCount(ts.grid);
  if (ts.tokens.length !== ts.count * cells) {
    throw new EntropyInputError(
      `token set: field "tokens" has ${ts.tokens.length} codes, expected count x cells = ` +
        `${ts.count} x ${cells}; pass row-major [N, cells] tokens for the stated grid`,
    );
  }
  for (let i = 0; i < ts.tokens.length; i++) {
    const v = ts.tokens[i];
    if (!(v >= 0 && v < ts.vocabSize) || !Number.isInteger(v)) {
      throw new EntropyInputError(
        `token set: field "tokens" holds ${v} at index ${i}, outside [0, vocabSize=${ts.vocabSize}); ` +
          `raise vocabSize or fix the token file`,
      );
    }
  }
  if (ts.labels !== undefined) {
    if (ts.labels.length !== ts.count) {
      throw new EntropyInputError(
        `token set: field "labels" has length ${ts.labels.length}, expected count = ${ts.count}`,
      );
    }
    for (let i = 0; i < ts.labels.length; i++) {
      const v = ts.labels[i];
      if (!Number.isInteger(v) || v < 0) {
        throw new EntropyInputError(
          `token set: field "labels" holds ${v} at ${i}; labels are class indices`,
        );
      }
    }
  }
  return ts;
}

/**
 * Transpose tokens to a {@link ColumnTable}, optionally keeping only `rows` (sample indices) and
 * mapping every code through `codeMap` (coarse-graining; see {@link ./coarse.ts}).
 */
export function toColumns(
  ts: TokenSet,
  options: { rows?: ArrayLike<number>; codeMap?: ArrayLike<number>; alphabet?: number } = {},
): ColumnTable {
  const cells = cellCount(ts.grid);
  const rows = options.rows;
  const n = rows ? rows.length : ts.count;
  const map = options.codeMap;
  if (map && map.length < ts.vocabSize) {
    throw new EntropyInputError(
      `codeMap has ${map.length} entries but vocabSize is ${ts.vocabSize}; map every code`,
    );
  }
  let alphabet = options.alphabet ?? ts.vocabSize;
  if (map && options.alphabet === undefined) {
    alphabet = 0;
    for (let k = 0; k < ts.vocabSize; k++) alphabet = Math.max(alphabet, map[k] + 1);
  }
  if (alphabet > 65536) throw new EntropyInputError(`alphabet ${alphabet} exceeds 65536 codes`);
  const columns = new Uint16Array(cells * n);
  const src = ts.tokens;
  for (let r = 0; r < n; r++) {
    const row = rows ? rows[r] : r;
    const base = row * cells;
    for (let j = 0; j < cells; j++) {
      const v = src[base + j];
      columns[j * n + r] = map ? map[v] : v;
    }
  }
  return { columns, rows: n, cells, alphabet };
}

/** Sample indices per class label (labels required). */
export function rowsByClass(ts: TokenSet): Map<number, Int32Array> {
  if (!ts.labels) {
    throw new EntropyInputError("token set has no labels; per-class analysis needs labels");
  }
  const lists = new Map<number, number[]>();
  for (let i = 0; i < ts.count; i++) {
    const c = ts.labels[i];
    let list = lists.get(c);
    if (!list) lists.set(c, list = []);
    list.push(i);
  }
  return new Map(
    [...lists.entries()].sort((a, b) => a[0] - b[0]).map(([c, l]) => [
      c,
      Int32Array.from(l),
    ]),
  );
}
