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
  const meter = progressOf(options, pairCount(table.cells));
  try {
    if (workers <= 1) return allPairsOnThread(table, meter.update);
    return await allPairsOnWorkers(table, workers, meter.update);
  } finally {
    meter.finish();
  }
}

function allPairsOnThread(table: ColumnTable, update?: ProgressCallback): PairTable {
  const { cells, rows } = table;
  const out = emptyPairTable(cells, rows);
  const scratch = new PairScratch(table);
  const total = pairCount(cells);
  let done = 0;
  for (let ref = 0; ref < cells; ref++) {
    fillReference(scratch, ref, ref + 1, cells, out.sumNLogN, out.support);
    done += cells - 1 - ref;
    update?.(done, total);
  }
  return out;
}

async function allPairsOnWorkers(
  table: ColumnTable,
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
  const job: AllPairsJob = { columns, rows, cells, alphabet, sumNLogN, support, counter };
  const url = new URL("./pairs_worker.ts", import.meta.url).href;
  const total = pairCount(cells);
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
