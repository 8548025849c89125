/**
 * The pair engine: histogram statistics (Σ n log2 n and support) of the joint code of two cells,
 * for one reference cell against many others, without K x K tables.
 *
 * Why this shape: a joint histogram of two K = 1024 alphabets has a million bins but at most N
 * (≈ 6000) of them are non-empty. The engine groups the samples by the reference cell's code once
 * (a counting sort), then for every other cell j walks each group and counts j's codes in one
 * reusable K-sized array, accumulating Σ n log2 n incrementally from a lookup table; a second
 * walk clears the counts. Cost per pair: two passes over the samples, O(N); memory: O(N + K).
 * Groups of one sample (unique reference codes) are never walked: each adds one joint bin with
 * n log n = 0.
 * @module
 */
import { type HistogramStats, nLogNIncrements } from "./estimators.ts";
import type { ColumnTable } from "./tokens.ts";

/** Joint statistics of every ordered cell pair; the diagonal holds each cell's marginal. */
export interface PairTable {
  /** Number of cells C. */
  cells: number;
  /** Number of samples N. */
  rows: number;
  /** Σ n log2 n of the joint histogram of (i, j) at i*C + j (symmetric). */
  sumNLogN: Float64Array;
  /** Non-empty joint bins of (i, j) at i*C + j (symmetric). */
  support: Int32Array;
}

/** Reusable buffers for {@link PairScratch.prepare} / {@link PairScratch.pair}. */
export class PairScratch {
  /** The token columns the pairs are counted over. */
  readonly table: ColumnTable;
  /** Sample indices of non-singleton groups, grouped by reference code. */
  readonly perm: Int32Array;
  /** End offset (exclusive) in `perm` of each group. */
  readonly groupEnd: Int32Array;
  /** Number of groups in use. */
  groups = 0;
  /** Samples whose reference code is unique. */
  singletons = 0;
  /** Marginal statistics of the prepared reference. */
  marginal: HistogramStats = { n: 0, sumNLogN: 0, support: 0 };
  readonly #counts: Int32Array;
  readonly #g: Float64Array;

  /** Allocate buffers sized for `table` (O(N + K)). */
  constructor(table: ColumnTable) {
    this.table = table;
    this.perm = new Int32Array(table.rows);
    this.groupEnd = new Int32Array(table.rows + 1);
    this.#counts = new Int32Array(table.alphabet);
    this.#g = nLogNIncrements(table.rows);
  }

  /** Group the samples by the code of reference cell `ref` (counting sort). */
  prepare(ref: number): void {
    const { columns, rows: n, alphabet } = this.table;
    const col = columns.subarray(ref * n, (ref + 1) * n);
    const counts = this.#counts;
    for (let r = 0; r < n; r++) counts[col[r]]++;
    // Offsets of the non-singleton groups; singleton codes get offset -1.
    let offset = 0;
    let groups = 0;
    let singletons = 0;
    let sum = 0;
    let support = 0;
    const start = new Int32Array(alphabet); // temporary, sized K: cheap next to the pair loop
    for (let a = 0; a < alphabet; a++) {
      const c = counts[a];
      if (c === 0) continue;
      support++;
      if (c === 1) {
        singletons++;
        start[a] = -1;
        continue;
      }
      sum += c * Math.log2(c);
      start[a] = offset;
      offset += c;
      this.groupEnd[groups++] = offset;
    }
    for (let r = 0; r < n; r++) {
      const a = col[r];
      if (counts[a] > 1) this.perm[start[a]++] = r;
    }
    for (let a = 0; a < alphabet; a++) counts[a] = 0;
    this.groups = groups;
    this.singletons = singletons;
    this.marginal = { n, sumNLogN: sum, support };
  }

  /**
   * Joint statistics of the prepared reference with cell `j`; writes Σ n log2 n into
   * `out[0]` and the support into `out[1]` (an output array avoids an allocation per pair).
   */
  pair(j: number, out: Float64Array): void {
    const n = this.table.rows;
    const col = this.table.columns.subarray(j * n, (j + 1) * n);
    const perm = this.perm;
    const ends = this.groupEnd;
    const counts = this.#counts;
    const g = this.#g;
    let acc = 0;
    let support = this.singletons;
    let s = 0;
    for (let b = 0; b < this.groups; b++) {
      const e = ends[b];
      for (let p = s; p < e; p++) {
        const v = col[perm[p]];
        const c = counts[v];
        if (c === 0) support++;
        acc += g[c];
        counts[v] = c + 1;
      }
      for (let p = s; p < e; p++) counts[col[perm[p]]] = 0;
      s = e;
    }
    out[0] = acc;
    out[1] = support;
  }
}

/** An empty {@link PairTable} for `cells` cells and `rows` samples. */
export function emptyPairTable(cells: number, rows: number): PairTable {
  return {
    cells,
    rows,
    sumNLogN: new Float64Array(cells * cells),
    support: new Int32Array(cells * cells),
  };
}

/**
 * Fill row `ref` of a pair table (and its mirror column) for targets `j` in [from, to), plus the
 * diagonal entry of `ref`. Shared by the single-thread path and the workers.
 */
export function fillReference(
  scratch: PairScratch,
  ref: number,
  from: number,
  to: number,
  sumNLogN: Float64Array,
  support: Int32Array,
): void {
  const c = scratch.table.cells;
  scratch.prepare(ref);
  sumNLogN[ref * c + ref] = scratch.marginal.sumNLogN;
  support[ref * c + ref] = scratch.marginal.support;
  const out = new Float64Array(2);
  for (let j = from; j < to; j++) {
    if (j === ref) continue;
    scratch.pair(j, out);
    sumNLogN[ref * c + j] = out[0];
    sumNLogN[j * c + ref] = out[0];
    support[ref * c + j] = out[1];
    support[j * c + ref] = out[1];
  }
}

/**
 * Joint statistics of reference cell `ref` with every cell j of the scratch's table: Σ n log2 n
 * and support at index j; index `ref` holds the reference's marginal. One row of a
 * {@link PairTable}, at C pairs' cost.
 */
export function referenceRow(
  scratch: PairScratch,
  ref: number,
): { sumNLogN: Float64Array; support: Int32Array } {
  const c = scratch.table.cells;
  const row = { sumNLogN: new Float64Array(c), support: new Int32Array(c) };
  scratch.prepare(ref);
  row.sumNLogN[ref] = scratch.marginal.sumNLogN;
  row.support[ref] = scratch.marginal.support;
  const out = new Float64Array(2);
  for (let j = 0; j < c; j++) {
    if (j === ref) continue;
    scratch.pair(j, out);
    row.sumNLogN[j] = out[0];
    row.support[j] = out[1];
  }
  return row;
}
