/**
 * The shared pieces of grid-cell figures (schedules, heat maps): a cell's square, a text at its
 * centre, and the x/y scales that put a grid on screen with row 0 at the top.
 * @module
 */
import { Plot } from "../deps/plot.ts";

/** What the cell marks read from a datum: its cell's row and column. */
export interface CellPosition {
  /** Row of the cell (0 at the top). */
  row: number;
  /** Column of the cell. */
  col: number;
}

/**
 * A rect mark with one unit square per datum (`[col, col + 1] x [row, row + 1]`); `options` adds
 * fill, stroke and facets.
 */
export function cellRect<T extends CellPosition>(
  data: readonly T[],
  options: Omit<Plot.RectOptions, "x1" | "x2" | "y1" | "y2">,
): Plot.Rect {
  return Plot.rect(data, {
    x1: "col",
    x2: (d: T) => d.col + 1,
    y1: "row",
    y2: (d: T) => d.row + 1,
    ...options,
  });
}

/** A text mark centred in each datum's cell; `options` gives the text, fill, size and facets. */
export function cellText<T extends CellPosition>(
  data: readonly T[],
  options: Omit<Plot.TextOptions, "x" | "y">,
): Plot.Text {
  return Plot.text(data, {
    x: (d: T) => d.col + 0.5,
    y: (d: T) => d.row + 0.5,
    ...options,
  });
}

/** The x and y scales of a cell figure: one unit per cell, no axes, row 0 at the top. */
export function cellScales(grid: { height: number; width: number }): {
  x: Plot.ScaleOptions;
  y: Plot.ScaleOptions;
} {
  return {
    x: { domain: [0, grid.width], axis: null },
    y: { domain: [0, grid.height], axis: null, reverse: true },
  };
}
