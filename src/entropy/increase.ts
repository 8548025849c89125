/**
 * Model-based entropy increase (the paper's Fig. 10): per cell, how much a model's predictive
 * entropy (or negative log-likelihood) of the true token rises under one (model, schedule) pair
 * compared with another, e.g. parallel PAR-4x against sequential raster.
 *
 * Inputs come from teacher forcing elsewhere (the sampler): for every validation grid n and cell
 * j, the entropy H_n(j) = −Σ_v p(v | context) log p(v | context) of the model's predictive
 * distribution at j under the schedule's context, and NLL_n(j) = −log p(x_j | context) of the
 * true token. This module only averages and differences them:
 *
 *   increase(j) = mean_n other_n(j) − mean_n base_n(j)   (bits)
 *
 * When both inputs are per-sample on the same grids, the per-cell standard error of that paired
 * difference is reported as well. Mean predictive entropy estimates the model's conditional
 * entropy H(X_j | context) (exactly so for a calibrated model); mean NLL is the cross-entropy,
 * an upper bound on it.
 * @module
 */
import { cellCount, type GridLike } from "../media/grid.ts";
import { EntropyInputError } from "./tokens.ts";
import type { StepsLike } from "./schedule_cost.ts";

/** Which per-cell quantity to compare. */
export type CellQuantity = "entropy" | "nll";

/** A model's per-cell predictive statistics on validation tokens under one schedule. */
export interface CellEntropyResult {
  /** Name for tables and figures, e.g. "raster model, raster". */
  label?: string;
  /** Grid of the tokens. */
  grid: GridLike;
  /** Predictive entropy: Float64Array [cells] (means) or [N * cells] (row-major per sample). */
  entropy?: ArrayLike<number>;
  /** NLL of the true token, same layouts as `entropy`. */
  nll?: ArrayLike<number>;
  /** Unit of `entropy` and `nll` (default "bits"; "nats" values are converted to bits). */
  unit?: "bits" | "nats";
  /** The schedule the values were computed under (enables per-step means). */
  schedule?: StepsLike;
}

/** The increase map between two results. */
export interface EntropyIncrease {
  /** Grid of both results. */
  grid: GridLike;
  /** Compared quantity. */
  quantity: CellQuantity;
  /** Labels of the base and the other result. */
  labels: { base: string; other: string };
  /** Mean per cell of the base result, bits. */
  base: Float64Array;
  /** Mean per cell of the other result, bits. */
  other: Float64Array;
  /** other − base per cell, bits. */
  increase: Float64Array;
  /** Standard error of the paired per-cell difference (both per-sample, same N), else absent. */
  standardError?: Float64Array;
  /** Mean of `increase` over cells, bits. */
  meanIncrease: number;
  /** Mean increase per step of the other result's schedule, when it has one. */
  byStep?: Float64Array;
}

function valuesOf(r: CellEntropyResult, q: CellQuantity, which: string): ArrayLike<number> {
  const v = q === "entropy" ? r.entropy : r.nll;
  if (!v) {
    throw new EntropyInputError(
      `${which} result${r.label ? ` "${r.label}"` : ""} has no "${q}" array; ` +
        `pass it or compare the other quantity`,
    );
  }
  return v;
}

/**
 * Mean per cell of a [cells] or [N * cells] array, in bits; rejects other lengths and
 * non-finite values.
 */
export function meanPerCell(
  values: ArrayLike<number>,
  cells: number,
  unit: "bits" | "nats" = "bits",
): Float64Array {
  if (values.length === 0 || values.length % cells !== 0) {
    throw new EntropyInputError(
      `per-cell array has ${values.length} values; expected ${cells} (means) or N x ${cells}`,
    );
  }
  const scale = unit === "nats" ? 1 / Math.LN2 : 1;
  const n = values.length / cells;
  const out = new Float64Array(cells);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      throw new EntropyInputError(
        `per-cell array holds ${v} at index ${i}; every cell needs a finite value`,
      );
    }
    out[i % cells] += v;
  }
  for (let j = 0; j < cells; j++) out[j] = (out[j] / n) * scale;
  return out;
}

/**
 * Increase map other − base of mean predictive entropy (or NLL) per cell.
 * @example
 * const inc = entropyIncrease(
 *   { label: "raster", grid, entropy: hRaster },
 *   { label: "PAR-4x", grid, entropy: hPar, schedule: par(grid, { m: 2 }) },
 * );
 * inc.meanIncrease; // bits per token lost to parallel sampling
 */
export function entropyIncrease(
  base: CellEntropyResult,
  other: CellEntropyResult,
  options: { quantity?: CellQuantity } = {},
): EntropyIncrease {
  const quantity = options.quantity ?? "entropy";
  const cells = cellCount(base.grid);
  if (cellCount(other.grid) !== cells || base.grid.height !== other.grid.height) {
    throw new EntropyInputError("entropy increase: the two results are on different grids");
  }
  const bv = valuesOf(base, quantity, "base");
  const ov = valuesOf(other, quantity, "other");
  const b = meanPerCell(bv, cells, base.unit);
  const o = meanPerCell(ov, cells, other.unit);
  const increase = o.map((v, j) => v - b[j]);
  let standardError: Float64Array | undefined;
  const n = bv.length / cells;
  if (n > 1 && ov.length === bv.length) {
    // Paired differences d_n(j): var = Σ (d − mean)² / (n − 1), se = sqrt(var / n).
    const sb = base.unit === "nats" ? 1 / Math.LN2 : 1;
    const so = other.unit === "nats" ? 1 / Math.LN2 : 1;
    const ss = new Float64Array(cells);
    for (let i = 0; i < bv.length; i++) {
      const j = i % cells;
      const d = ov[i] * so - bv[i] * sb - increase[j];
      ss[j] += d * d;
    }
    standardError = ss.map((s) => Math.sqrt(s / (n - 1) / n));
  }
  let byStep: Float64Array | undefined;
  if (other.schedule) {
    byStep = new Float64Array(other.schedule.steps.length);
    other.schedule.steps.forEach((step, s) => {
      let sum = 0;
      for (const cell of step.cells) sum += increase[cell];
      byStep![s] = sum / step.cells.length;
    });
  }
  return {
    grid: base.grid,
    quantity,
    labels: { base: base.label ?? "base", other: other.label ?? "other" },
    base: b,
    other: o,
    increase,
    standardError,
    meanIncrease: increase.reduce((a, v) => a + v, 0) / cells,
    byStep,
  };
}

/**
 * Wrap the sampler's teacher-forcing output (NLL in nats, entropy in bits, both
 * [grids, cells]) as a {@link CellEntropyResult} in bits.
 * @example
 * const tf = await teacherForce(model, schedule, tokens, labels);
 * const result = fromTeacherForcing(tf, schedule, "PAR-4x");
 */
export function fromTeacherForcing(
  tf: { nll: ArrayLike<number>; entropyBits: ArrayLike<number> },
  schedule: StepsLike,
  label?: string,
): CellEntropyResult {
  const nll = Float64Array.from(tf.nll, (v) => v / Math.LN2);
  return {
    label: label ?? schedule.name,
    grid: schedule.grid,
    entropy: tf.entropyBits,
    nll,
    unit: "bits",
    schedule,
  };
}
