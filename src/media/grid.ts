/**
 * Token grids: H x W for images, F x H x W for video. Cells are numbered by a flat index
 * `frame * H * W + row * W + col`, the same number the model contract uses as position id.
 * @module
 */
import { z } from "../deps/zod.ts";
import { ConfigError } from "../util/errors.ts";
import { formatBytes, MAX_GRID_CELLS } from "../util/limits.ts";

/** The shape of a token grid. `frames` is 1 for images. */
export interface Grid {
  /** Number of frames (1 for a still image). */
  frames: number;
  /** Rows of tokens per frame. */
  height: number;
  /** Columns of tokens per frame. */
  width: number;
}

/**
 * A grid as inputs may give it: `frames` may be left out for a still image (F = 1). Every grid
 * helper takes this; {@link Grid} is what parlab builds and returns.
 */
export interface GridLike {
  /** Number of frames (default 1). */
  frames?: number;
  /** Rows of tokens per frame. */
  height: number;
  /** Columns of tokens per frame. */
  width: number;
}

/** Zod schema of a {@link Grid} as it appears in JSON (frames optional, default 1). */
export const GridSchema = z.object({
  frames: z.number().int().positive().default(1),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
}).refine((g) => g.frames * g.height * g.width <= MAX_GRID_CELLS, {
  message: `has more than ${MAX_GRID_CELLS.toLocaleString("en-US")} cells (parlab's limit for ` +
    "one grid). Fix: check frames, height and width",
});

/**
 * Make a grid, checking that every size is a positive integer.
 * @example
 * const image = makeGrid(24, 24);      // 576 cells
 * const video = makeGrid(16, 16, 5);   // 1280 cells
 */
export function makeGrid(height: number, width: number, frames = 1): Grid {
  for (const [field, v] of [["height", height], ["width", width], ["frames", frames]] as const) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new ConfigError(
        `grid.${field}`,
        `must be a positive integer, got ${v}`,
        `pass e.g. 24`,
      );
    }
  }
  const cells = frames * height * width;
  if (cells > MAX_GRID_CELLS) {
    throw new ConfigError(
      "grid",
      `${frames > 1 ? `${frames}x` : ""}${height}x${width} has ${cells.toLocaleString("en-US")} ` +
        `cells, over parlab's limit of ${MAX_GRID_CELLS.toLocaleString("en-US")} (a raster ` +
        `schedule of it alone would need ${formatBytes(cells * 64)})`,
      "check the grid's sizes",
    );
  }
  return { frames, height, width };
}

/** Number of cells in a grid (F * H * W). */
export function cellCount(grid: GridLike): number {
  return (grid.frames ?? 1) * grid.height * grid.width;
}

/** Flat index of the cell at (frame, row, col). */
export function cellIndex(grid: GridLike, frame: number, row: number, col: number): number {
  return (frame * grid.height + row) * grid.width + col;
}

/** Coordinates of a flat cell index. */
export function cellCoords(
  grid: GridLike,
  cell: number,
): { frame: number; row: number; col: number } {
  const perFrame = grid.height * grid.width;
  const frame = Math.floor(cell / perFrame);
  const rem = cell - frame * perFrame;
  return { frame, row: Math.floor(rem / grid.width), col: rem % grid.width };
}
