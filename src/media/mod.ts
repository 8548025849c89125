/**
 * The shapes everything else is made of: grids of token cells (`F x H x W`, F = 1 for images,
 * flat cell index `frame*H*W + row*W + col`) and batches of pictures or token grids with frames.
 * @module
 */
export {
  cellCoords,
  cellCount,
  cellIndex,
  type Grid,
  type GridLike,
  GridSchema,
  makeGrid,
} from "./grid.ts";
export {
  asClips,
  asFrames,
  framesOf,
  type ImageBatch,
  type TokenGrids,
  type TokenGridsLike,
} from "./batches.ts";
export { clipAt, tileClips, type TileOptions } from "./clip_layout.ts";
export { cellMapView, imageView, tokenView, type ViewableArray, viewOf } from "./ndarray.ts";
export type { NdArray } from "../deps/ndarray.ts";
