/**
 * Model-free dependency cost of a schedule: how much pairwise mutual information a schedule puts
 * inside its steps, where a parallel sampler draws the cells independently given the past.
 *
 * Cost of a step S = Σ_{a<b ∈ S} I(X_a; X_b), summed over steps for the total. This is what
 * independent sampling inside a step ignores, to the pairwise order: the exact loss is the total
 * correlation of S given the earlier steps, which the pairwise sum neither bounds above nor
 * below in general, but it ranks schedules the same way when dependency is mostly local (the
 * paper's premise). The unconditional I(X_a; X_b) is used (the context of earlier steps is not
 * estimable from token counts), so the cost is an upper-end proxy for a well-conditioned model.
 * Single-cell steps cost 0.
 * @module
 */
import { cellCount, type GridLike } from "../media/grid.ts";
import { EntropyInputError } from "./tokens.ts";

/** The part of a schedule the cost needs (the `Schedule` of src/schedule satisfies it). */
export interface StepsLike {
  /** Name for tables and figures. */
  name?: string;
  /** Grid of the schedule. */
  grid: GridLike;
  /** Steps in order, each with the cells sampled together. */
  steps: readonly { cells: readonly number[] }[];
}

/** The dependency cost of one schedule. */
export interface ScheduleCost {
  /** Schedule name (or "schedule"). */
  name: string;
  /** Number of steps. */
  steps: number;
  /** Σ over steps of the within-step pairwise mutual information, bits. */
  total: number;
  /** Per step: Σ_{a<b in step} I(X_a; X_b), bits. */
  perStep: Float64Array;
  /** Per cell j in step S: Σ_{k ∈ S, k ≠ j} I(X_j; X_k), bits (each pair counted at both ends). */
  perCell: Float64Array;
  /** Number of within-step pairs. */
  pairs: number;
}

/**
 * Within-step pairwise mutual-information cost of `schedule` under the C x C matrix `mi`.
 * @example
 * const mi = mutualInformationMatrix(dep, "shuffle");
 * scheduleCost(par(grid, { m: 2 }), mi).total; // bits ignored by PAR-4x's parallel steps
 */
export function scheduleCost(schedule: StepsLike, mi: ArrayLike<number>): ScheduleCost {
  const c = cellCount(schedule.grid);
  if (mi.length !== c * c) {
    throw new EntropyInputError(
      `mutual-information matrix has ${mi.length} entries, expected ${c} x ${c} for the ` +
        `schedule's grid; compute it on tokens of the same grid`,
    );
  }
  const perStep = new Float64Array(schedule.steps.length);
  const perCell = new Float64Array(c);
  let pairs = 0;
  schedule.steps.forEach((step, s) => {
    const cells = step.cells;
    for (const a of cells) {
      if (!Number.isInteger(a) || a < 0 || a >= c) {
        throw new EntropyInputError(
          `schedule step ${s} names cell ${a}, outside the grid's ${c} cells`,
        );
      }
    }
    let sum = 0;
    for (let x = 0; x < cells.length; x++) {
      for (let y = x + 1; y < cells.length; y++) {
        const v = mi[cells[x] * c + cells[y]];
        sum += v;
        perCell[cells[x]] += v;
        perCell[cells[y]] += v;
        pairs++;
      }
    }
    perStep[s] = sum;
  });
  const total = perStep.reduce((a, b) => a + b, 0);
  return {
    name: schedule.name ?? "schedule",
    steps: schedule.steps.length,
    total,
    perStep,
    perCell,
    pairs,
  };
}
