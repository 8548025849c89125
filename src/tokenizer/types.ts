/**
 * The seam between pictures and token grids. Every tokenizer (the patch k-means one here, an ONNX
 * VQ encoder/decoder such as LlamaGen's later) implements {@link Tokenizer}.
 * @module
 */
import type { ImageBatch, TokenGrids, TokenGridsLike } from "../media/batches.ts";

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
  /**
   * Encode pictures (height and width divisible by `downsample`) to token grids; clips are
   * encoded frame by frame and keep their `frames`.
   */
  encode(images: ImageBatch): Promise<TokenGrids>;
  /**
   * Decode token grids to pictures of (height * downsample) x (width * downsample) pixels;
   * clips decode frame by frame and keep their `frames`.
   */
  decode(tokens: TokenGridsLike): Promise<ImageBatch>;
}
