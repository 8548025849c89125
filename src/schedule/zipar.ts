/**
 * ZipAR's wavefront as a schedule (He et al., "ZipAR: Parallel Autoregressive Image Generation
 * through Spatial Locality", ICML 2025, arXiv 2412.04062; code: github.com/ThisisBillhe/ZipAR).
 *
 * The rows of the raster order decode in parallel: row r+1 starts once row r holds `window`
 * tokens, and every started row then gains one token a step. Cell (r, c) is therefore sampled at
 * step `r * window + c`, and an R-row, W-column grid takes `(R - 1) * window + W` steps
 * (24x24: window 8 -> 208, 4 -> 116, 2 -> 70, 1 -> 47; window = W is raster order). A video
 * grid's rows are the F*H rows of its raster order.
 *
 * This schedule lists which cells each step samples, for the figures, `stepOfCell` and the
 * schedule-cost probe. It is not run by `sample()`: ZipAR feeds a raster-trained model its own
 * slots (raster predecessors, stand-ins for a new row's first cell), which `sampleZipAR` in
 * src/sampler builds.
 * @module
 */
import { ConfigError } from "../util/errors.ts";
import { cellCount, type Grid } from "../media/grid.ts";
import { custom } from "./builders.ts";
import { describeGrid, type Schedule } from "./schedule.ts";

/** Options of {@link zipar}. */
export interface ZipARScheduleOptions {
  /**
   * Local window s: row r+1 starts once row r has s tokens, so cell (r+1, c) sees row r up to
   * column c + s - 1. 1 <= s <= W; s = W is raster order.
   */
  window: number;
}

/** Rows of the raster order (F*H) and their length (W). */
export function rasterRows(grid: Grid): { rows: number; width: number } {
  return { rows: cellCount(grid) / grid.width, width: grid.width };
}

/**
 * A ZipAR window (or minimum window) must be an integer in [1, W]: a window larger than the row
 * would wait for tokens the row does not have. Throws a {@link ConfigError} naming the fix.
 * @param field the option's name in the message (`window`, `adaptive.minWindow`)
 */
export function checkZipARWindow(grid: Grid, window: unknown, field = "window"): number {
  const W = grid.width;
  const fix = `choose a window of 1..${W} tokens (${W} is raster order)`;
  if (typeof window !== "number" || !Number.isInteger(window)) {
    throw new ConfigError(field, `must be an integer, got ${String(window)}`, fix);
  }
  if (window < 1) {
    throw new ConfigError(
      field,
      `${window} is below 1 (a row cannot start before the row above has a token)`,
      fix,
    );
  }
  if (window > W) {
    throw new ConfigError(
      field,
      `${window} is larger than the ${W}-token rows of the ${describeGrid(grid)} grid`,
      fix,
    );
  }
  return window;
}

/**
 * ZipAR's implied steps: cell (r, c) at step r * window + c, each step's cells in raster order.
 * @example
 * zipar(makeGrid(4, 6), { window: 2 }).steps.map((s) => s.cells).slice(0, 5);
 * // [[0], [1], [2, 6], [3, 7], [4, 8, 12]]
 */
export function zipar(grid: Grid, options: ZipARScheduleOptions): Schedule {
  const s = checkZipARWindow(grid, options?.window);
  const { rows, width } = rasterRows(grid);
  const steps: number[][] = Array.from({ length: (rows - 1) * s + width }, () => []);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < width; c++) steps[r * s + c].push(r * width + c);
  }
  // Rows were visited in order, so each step's cells are ascending (raster order).
  return custom(grid, steps, { name: `zipar${s}`, attention: "causal" });
}
