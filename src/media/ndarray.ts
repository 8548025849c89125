/**
 * n-dimensional views for notebook users: token grids as `[n, F, H, W]`, pictures as
 * `[n, F, H, W, 3]`, any per-cell map (an entropy map, a per-cell NLL) as `[F, H, W]`, and any
 * flat array with a shape (npy arrays, `[B, T, V]` logits). Views share memory with the typed
 * array underneath (no copy), and slice with ndarray's `pick`, `hi`, `lo` and `step`.
 *
 * Why parlab's own types stay flat typed arrays: they are what onnxruntime, sharp and the `.npy`
 * files hand over, they cost nothing to pass between workers, and the hot loops index them
 * directly. ndarray is the view layered on top where a person wants to slice.
 * @module
 */
import { type NdArray, ndarray } from "../deps/ndarray.ts";
import { framesOf, type ImageBatch, type TokenGridsLike } from "./batches.ts";
import { cellCount, type GridLike } from "./grid.ts";

/** A flat numeric array ndarray can view. */
export type ViewableArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | number[];

/** View a flat array as an n-dimensional array of `shape` (row-major); the sizes must agree. */
export function viewOf<T extends ViewableArray>(data: T, shape: readonly number[]): NdArray<T> {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw new RangeError(
      `shape [${shape.join(", ")}] holds ${size} values, the array ${data.length}`,
    );
  }
  return ndarray(data, [...shape]);
}

/**
 * Token grids as `[n, F, H, W]`.
 * @example
 * const v = tokenView({ n: 2, height: 24, width: 24, tokens: out.tokens });
 * v.get(1, 0, 3, 4); // image 1, frame 0, row 3, column 4
 * v.pick(0, 0).hi(4, 4); // the top-left 4x4 corner of image 0
 */
export function tokenView<T extends ViewableArray>(
  grids: TokenGridsLike & { tokens: T },
): NdArray<T> {
  return viewOf(grids.tokens, [grids.n, framesOf(grids), grids.height, grids.width]);
}

/** Pictures as `[n, F, H, W, 3]` (RGB bytes). */
export function imageView(images: ImageBatch): NdArray<Uint8Array> {
  return viewOf(images.data, [images.n, framesOf(images), images.height, images.width, 3]);
}

/**
 * A per-cell map (one value per grid cell, flat cell order) as `[F, H, W]`.
 * @example
 * const h = cellMapView(result.entropyBits, makeGrid(24, 24));
 * h.pick(0, 5); // row 5 of frame 0
 */
export function cellMapView<T extends ViewableArray>(values: T, grid: GridLike): NdArray<T> {
  if (values.length !== cellCount(grid)) {
    throw new RangeError(`a cell map needs ${cellCount(grid)} values, got ${values.length}`);
  }
  return viewOf(values, [grid.frames ?? 1, grid.height, grid.width]);
}
