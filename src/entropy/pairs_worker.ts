/**
 * Worker side of {@link ./all_pairs.ts}: takes reference cells from a shared counter and fills
 * their rows of the shared pair table. Messages: one `AllPairsJob` in, `"done"` out.
 * @module
 */
import { fillReference, PairScratch } from "./pairs.ts";

/** What the main thread sends a worker (all buffers shared, nothing copied). */
export interface AllPairsJob {
  columns: SharedArrayBuffer;
  rows: number;
  cells: number;
  alphabet: number;
  sumNLogN: SharedArrayBuffer;
  support: SharedArrayBuffer;
  /** Int32 [next reference, finished pairs]; the next reference starts at the range's start. */
  counter: SharedArrayBuffer;
  /** End (exclusive) of the reference cells to fill. */
  end: number;
}

// deno-lint-ignore no-explicit-any
const scope = self as any;
scope.onmessage = (e: MessageEvent<AllPairsJob>) => {
  const job = e.data;
  const table = {
    columns: new Uint16Array(job.columns),
    rows: job.rows,
    cells: job.cells,
    alphabet: job.alphabet,
  };
  const sum = new Float64Array(job.sumNLogN);
  const support = new Int32Array(job.support);
  const counter = new Int32Array(job.counter);
  const scratch = new PairScratch(table);
  for (;;) {
    const ref = Atomics.add(counter, 0, 1);
    if (ref >= job.end) break;
    fillReference(scratch, ref, ref + 1, job.cells, sum, support);
    Atomics.add(counter, 1, job.cells - 1 - ref);
  }
  scope.postMessage("done");
};
