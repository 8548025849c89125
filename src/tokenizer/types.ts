/**
 * The seam between pictures and token grids. Every tokenizer (the patch k-means one here, an ONNX
 * VQ encoder/decoder such as LlamaGen's later) implements {@link Tokenizer}.
 * @module
 */

/**
 * A batch of RGB pictures: `data` is uint8 0..255 in NHWC order, i.e. pixel (i, y, x) channel ch
 * is `data[((i * height + y) * width + x) * 3 + ch]`. No alpha: pictures are composited on white
 * before they get here. (An ONNX VQ adapter converts to its own NCHW float range inside
 * `encode`/`decode`, so callers never see model-specific layouts.)
 */
export interface ImageBatch {
  /** Number of pictures. */
  n: number;
  /** Picture height in pixels. */
  height: number;
  /** Picture width in pixels. */
  width: number;
  /** n * height * width * 3 bytes, NHWC, RGB. */
  data: Uint8Array;
}

/**
 * A batch of token grids: `tokens[(i * height + r) * width + c]` is the code of cell (r, c) of
 * grid i (the project's flat cell index, one frame). Codes are in [0, vocabSize).
 */
export interface TokenGrids {
  /** Number of grids. */
  n: number;
  /** Grid rows. */
  height: number;
  /** Grid columns. */
  width: number;
  /** n * height * width codes. */
  tokens: Uint16Array;
}

/** Token grids from any source (e.g. a sampler's Int32Array output) accepted by `decode`. */
export interface TokenGridsLike {
  /** Number of grids. */
  n: number;
  /** Rows per grid. */
  height: number;
  /** Columns per grid. */
  width: number;
  /** Token ids, grid by grid, row-major: length n x height x width. */
  tokens: ArrayLike<number>;
}

/**
 * Encodes pictures to token grids and decodes grids back to pictures.
 *
 * Methods are async so that implementations backed by an ONNX session (a VQ-VAE encoder and
 * decoder) fit the same interface as the in-process k-means one.
 */
export interface Tokenizer {
  /** Short identifier of the implementation, e.g. `"patch-kmeans"`. */
  readonly kind: string;
  /** Number of distinct codes K; every token is in [0, K). */
  readonly vocabSize: number;
  /** Pixels per token side: a H x W picture becomes a (H / downsample) x (W / downsample) grid. */
  readonly downsample: number;
  /** Encode pictures (height and width divisible by `downsample`) to token grids. */
  encode(images: ImageBatch): Promise<TokenGrids>;
  /** Decode token grids to pictures of (height * downsample) x (width * downsample) pixels. */
  decode(tokens: TokenGridsLike): Promise<ImageBatch>;
}
