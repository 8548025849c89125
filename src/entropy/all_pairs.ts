/**
 * All-pairs joint statistics (C(C−1)/2 pairs) on the main thread or on Deno workers sharing the
 * token columns and the result table through SharedArrayBuffers. Workers take reference cells
 * from a shared atomic counter, so the uneven work per reference (C−1−i pairs) balances itself.
 * Results do not depend on the number of workers: every pair is computed the same way.
 * @module
 */
import { emptyPairTable, fillReference, PairScratch, type PairTable } from "./pairs.ts";
import type { AllPairsJob } from "./pairs_worker.ts";
import type { ColumnTable } from "./tokens.ts";
import { progress } from "../util/progress.ts";

/** A progress callback: pairs done so far out of the total. */
export type ProgressCallback = (done: number, total: number) => void;

/** Options for {@link allPairsStats}. */
export interface AllPairsOptions {
  /** Worker count; 0 or 1 computes on the calling thread. Default: min(2, hardware threads). */
  workers?: number;
  /** `true` shows a progress bar on stderr (src/util/progress); a function gets (done, total). */
  progress?: boolean | ProgressCallback;
  /** Label for the stderr progress line. */
  label?: string;
  /**
   * Only these reference cells [start, end): a shard of the table. Reference i holds the pairs
   * (i, j) for j > i and its own marginal; {@link mergePairTables} joins the shards of a split
   * ({@link referenceShard}) into the whole table, equal to an unsharded run.
   */
  references?: { start: number; end: number };
}

/**
 * The reference cells [start, end) of shard `index` of `count`, balanced by pair count (reference
 * i holds C-1-i pairs), so every shard of a large token set does about the same work.
 * @example
 * referenceShard(576, { index: 0, count: 4 }); // { start: 0, end: 77 }: the long rows first
 */
export function referenceShard(
  cells: number,
  shard: { index: number; count: number },
): { start: number; end: number } {
  // Pairs before reference r: r*C - r(r+1)/2. Find the r where that crosses k/N of the total.
  const total = pairCount(cells);
  const boundary = (k: number): number => {
    if (k <= 0) return 0;
    if (k >= shard.count) return cells;
    const target = (k * total) / shard.count;
    let r = 0;
    while (r < cells && r * cells - (r * (r + 1)) / 2 < target) r++;
    return r;
  };
  return { start: boundary(shard.index), end: boundary(shard.index + 1) };
}

/**
 * Join pair tables computed for disjoint reference ranges (and the mirror entries they filled)
 * into the whole table: every entry is filled by exactly one shard, so the sum is exact.
 */
export function mergePairTables(tables: readonly PairTable[]): PairTable {
  if (tables.length === 0) throw new RangeError("mergePairTables: no tables");
  const { cells, rows } = tables[0];
  const out = emptyPairTable(cells, rows);
  for (const t of tables) {
    if (t.cells !== cells || t.rows !== rows) {
      throw new RangeError(
        `mergePairTables: a table of ${t.cells} cells x ${t.rows} rows among ${cells} x ${rows}`,
      );
    }
    for (let i = 0; i < out.sumNLogN.length; i++) {
      out.sumNLogN[i] += t.sumNLogN[i];
      out.support[i] += t.support[i];
    }
  }
  return out;
}

function progressOf(
  options: AllPairsOptions,
  total: number,
): { update?: ProgressCallback; finish: () => void } {
  if (typeof options.progress === "function") return { update: options.progress, finish() {} };
  if (!options.progress) return { finish() {} };
  const bar = progress(options.label ?? "all pairs", total);
  return { update: (done) => bar.update(done), finish: () => bar.stop() };
}

/** Total number of unordered pairs for `cells` cells. */
export function pairCount(cells: number): number {
  return (cells * (cells - 1)) / 2;
}

/**
 * Joint statistics of every pair of cells of `table` (and each cell's marginal on the diagonal).
 * @example
 * const stats = await allPairsStats(toColumns(tokens), { workers: 2, progress: true });
 */
export async function allPairsStats(
  table: ColumnTable,
  options: AllPairsOptions = {},
): Promise<PairTable> {
  const workers = Math.max(
    0,
    Math.floor(options.workers ?? Math.min(2, navigator.hardwareConcurrency || 1)),
  );
  const range = options.references ?? { start: 0, end: table.cells };
  if (
    !Number.isInteger(range.start) || !Number.isInteger(range.end) || range.start < 0 ||
    range.end > table.cells || range.start > range.end
  ) {
    throw new RangeError(
      `references: [${range.start}, ${range.end}) is not a range of the ${table.cells} cells`,
    );
  }
  const pairs = pairsIn(table.cells, range);
  const meter = progressOf(options, pairs);
  try {
    if (workers <= 1) return allPairsOnThread(table, range, pairs, meter.update);
    return await allPairsOnWorkers(table, range, pairs, workers, meter.update);
  } finally {
    meter.finish();
  }
}

/** Pairs held by reference cells [start, end). */
function pairsIn(cells: number, range: { start: number; end: number }): number {
  let n = 0;
  for (let r = range.start; r < range.end; r++) n += cells - 1 - r;
  return n;
}

function allPairsOnThread(
  table: ColumnTable,
  range: { start: number; end: number },
  total: number,
  update?: ProgressCallback,
): PairTable {
  const { cells, rows } = table;
  const out = emptyPairTable(cells, rows);
  const scratch = new PairScratch(table);
  let done = 0;
  for (let ref = range.start; ref < range.end; ref++) {
    fillReference(scratch, ref, ref + 1, cells, out.sumNLogN, out.support);
    done += cells - 1 - ref;
    update?.(done, total);
  }
  return out;
}

async function allPairsOnWorkers(
  table: ColumnTable,
  range: { start: number; end: number },
  total: number,
  count: number,
  update?: ProgressCallback,
): Promise<PairTable> {
  const { cells, rows, alphabet } = table;
  const columns = new SharedArrayBuffer(table.columns.byteLength);
  new Uint16Array(columns).set(table.columns);
  const sumNLogN = new SharedArrayBuffer(cells * cells * 8);
  const support = new SharedArrayBuffer(cells * cells * 4);
  const counter = new SharedArrayBuffer(8);
  const progress = new Int32Array(counter);
  progress[0] = range.start;
  const job: AllPairsJob = {
    columns,
    rows,
    cells,
    alphabet,
    sumNLogN,
    support,
    counter,
    end: range.end,
  };
  const url = new URL("./pairs_worker.ts", import.meta.url).href;
  const timer = update ? setInterval(() => update(Atomics.load(progress, 1), total), 200) : 0;
  const spawned: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: count }, () =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(url, { type: "module" });
          spawned.push(w);
          w.onmessage = () => resolve();
          w.onerror = (e) => {
            e.preventDefault();
            reject(new Error(`pair worker failed: ${e.message}`));
          };
          w.postMessage(job);
        })),
    );
  } finally {
    if (timer) clearInterval(timer);
    for (const w of spawned) w.terminate();
  }
  update?.(total, total);
  return {
    cells,
    rows,
    sumNLogN: new Float64Array(sumNLogN).slice(),
    support: new Int32Array(support).slice(),
  };
}
