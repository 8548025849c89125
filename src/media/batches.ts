/**
 * Pictures and token grids in batches, for images and video alike: a clip of F frames is F
 * pictures (or grids) in a row, and a still image is a clip of one frame. Tokenizers, token
 * files, mosaics and the CLIs carry `frames` through, so a video model needs no new plumbing.
 * @module
 */

/**
 * A batch of RGB pictures or clips: `data` is uint8 0..255 in N(F)HWC order, i.e. pixel
 * (item i, frame f, y, x) channel ch is `data[(((i * F + f) * height + y) * width + x) * 3 + ch]`.
 * No alpha: pictures are composited on white before they get here.
 */
export interface ImageBatch {
  /** Number of pictures (clips when `frames` > 1). */
  n: number;
  /** Frames per item (default 1: still pictures). */
  frames?: number;
  /** Picture height in pixels. */
  height: number;
  /** Picture width in pixels. */
  width: number;
  /** n * frames * height * width * 3 bytes, N(F)HWC, RGB. */
  data: Uint8Array;
}

/**
 * A batch of token grids: `tokens[((i * F + f) * height + r) * width + c]` is the code of cell
 * (f, r, c) of grid i: the project's flat cell index within each grid. Codes are in
 * [0, vocabSize).
 */
export interface TokenGrids {
  /** Number of grids (clips when `frames` > 1). */
  n: number;
  /** Frames per grid (default 1). */
  frames?: number;
  /** Grid rows. */
  height: number;
  /** Grid columns. */
  width: number;
  /** n * frames * height * width codes. */
  tokens: Uint16Array;
}

/** Token grids from any source (e.g. a sampler's Int32Array output) accepted by `decode`. */
export interface TokenGridsLike {
  /** Number of grids. */
  n: number;
  /** Frames per grid (default 1). */
  frames?: number;
  /** Rows per frame. */
  height: number;
  /** Columns per frame. */
  width: number;
  /** Token ids, grid by grid, frame by frame, row-major: length n x frames x height x width. */
  tokens: ArrayLike<number>;
}

/** Frames per item of a batch (1 when not given). */
export function framesOf(batch: { frames?: number }): number {
  return batch.frames ?? 1;
}

/**
 * View a batch of clips as a batch of single frames (n x F items of one frame each): the same
 * memory, re-labelled. Tokenizers encode and decode frame by frame through it.
 */
export function asFrames<T extends { n: number; frames?: number }>(batch: T): T & { frames: 1 } {
  return { ...batch, n: batch.n * framesOf(batch), frames: 1 };
}

/** Regroup single frames (n x F items) into clips of `frames` frames: the inverse of {@link asFrames}. */
export function asClips<T extends { n: number; frames?: number }>(
  batch: T,
  frames: number,
): T & { frames: number } {
  if (!Number.isInteger(frames) || frames < 1 || batch.n % frames !== 0) {
    throw new RangeError(`cannot group ${batch.n} frames into clips of ${frames}`);
  }
  return { ...batch, n: batch.n / frames, frames };
}
