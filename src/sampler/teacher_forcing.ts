/**
 * Teacher forcing: per-cell logits, negative log-likelihood and predictive entropy of given
 * token grids under a schedule, in one forward pass per batch (no KV cache). The entropy probes
 * and the quality evaluation use it.
 * @module
 */
import type { ARModel } from "../model/ar_model.ts";
import { cellCount } from "../media/grid.ts";
import { type Schedule, stepSlots } from "../schedule/schedule.ts";
import { nllAndEntropy } from "./distribution.ts";
import { buildSequenceInputs, type RowClass } from "./layout.ts";
import { checkIds, checkSchedule } from "./checks.ts";
import { checkPairing } from "./pairing.ts";
import { checkAllocation } from "../util/limits.ts";

/** Options of {@link teacherForce}. */
export interface TeacherForceOptions {
  /** Grids per forward pass (default 8). */
  batchSize?: number;
  /** Condition on the null class instead of the labels (default false). */
  unconditional?: boolean;
  /** Also return the logits, [grids, cells, V] (memory: grids x 576 x V floats). */
  keepLogits?: boolean;
  /** Progress callback: grids done, grids in all. */
  onProgress?: (done: number, total: number) => void;
  /** Receives the warning when the schedule is not the model's trained one. */
  onWarning?: (message: string) => void;
}

/** Per-cell results of {@link teacherForce}, cells in flat grid order. */
export interface TeacherForceResult {
  /** Number of grids. */
  grids: number;
  /** Negative log-likelihood in nats, [grids, cells]. */
  nll: Float64Array;
  /** Predictive entropy in bits, [grids, cells]. */
  entropyBits: Float64Array;
  /** Logits, [grids, cells, V], when asked for. */
  logits?: Float32Array;
}

/**
 * Score token grids under a schedule with the model's predictive distributions.
 * @param tokens [grids, cells] token ids, cells in flat grid order
 * @param labels class of each grid
 */
export async function teacherForce(
  model: ARModel,
  schedule: Schedule,
  tokens: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: TeacherForceOptions = {},
): Promise<TeacherForceResult> {
  const m = model.manifest;
  checkSchedule(schedule);
  const warning = checkPairing(m, schedule);
  if (warning) (options.onWarning ?? console.warn)(warning);
  const cells = cellCount(schedule.grid);
  const grids = labels.length;
  if (tokens.length !== grids * cells) {
    throw new RangeError(
      `tokens: has ${tokens.length} ids, needs grids x cells = ${grids} x ${cells}`,
    );
  }
  const V = m.vocabSize;
  checkIds("tokens", tokens, V, "token id");
  if (!options.unconditional) checkIds("labels", labels, m.numClasses, "class index");
  if (options.keepLogits) {
    checkAllocation(
      "keepLogits",
      `the logits of ${grids} grids x ${cells} cells x ${V} tokens`,
      grids * cells * V * 4,
      "score fewer grids per call, or leave keepLogits off",
    );
  }
  const slotsPerStep = stepSlots(schedule);
  const attentions = schedule.steps.map((s) => s.attention);
  // Where each cell's prediction comes out: slot offset in the concatenated sequence.
  const slotOfCell = new Int32Array(cells);
  let offset = 0;
  schedule.steps.forEach((step, s) => {
    step.cells.forEach((cell, i) => (slotOfCell[cell] = offset + i));
    offset += slotsPerStep[s].length;
  });
  const L = offset;
  const nll = new Float64Array(grids * cells);
  const entropyBits = new Float64Array(grids * cells);
  const logitsOut = options.keepLogits ? new Float32Array(grids * cells * V) : undefined;
  const batchSize = options.batchSize ?? 8;
  for (let g0 = 0; g0 < grids; g0 += batchSize) {
    const n = Math.min(batchSize, grids - g0);
    const chunk = new Int32Array(n * cells);
    for (let i = 0; i < n * cells; i++) chunk[i] = tokens[g0 * cells + i];
    const rowClasses: RowClass[] = Array.from(
      { length: n },
      (_, b) => options.unconditional ? null : Number(labels[g0 + b]),
    );
    const imageOfRow = rowClasses.map((_, b) => b);
    const inputs = buildSequenceInputs(
      m,
      slotsPerStep,
      attentions,
      rowClasses,
      chunk,
      cells,
      imageOfRow,
    );
    const cache = model.newCache(n);
    const out = await model.step(cache, inputs);
    for (let b = 0; b < n; b++) {
      for (let c = 0; c < cells; c++) {
        const at = (b * L + slotOfCell[c]) * V;
        const row = out.logits.subarray(at, at + V);
        const r = nllAndEntropy(row, chunk[b * cells + c]);
        nll[(g0 + b) * cells + c] = r.nll;
        entropyBits[(g0 + b) * cells + c] = r.entropyBits;
        logitsOut?.set(row, ((g0 + b) * cells + c) * V);
      }
    }
    options.onProgress?.(g0 + n, grids);
  }
  return { grids, nll, entropyBits, ...(logitsOut ? { logits: logitsOut } : {}) };
}
