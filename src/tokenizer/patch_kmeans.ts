/**
 * A tokenizer without a neural network: every P x P pixel patch becomes the index of its nearest
 * code in a k-means codebook, and decoding pastes the codes back. Cheap, exact, deterministic,
 * and good enough (about 29 dB PSNR on emoji with K = 1024, P = 2) to give real token statistics.
 * @module
 */
import {
  asFrames,
  framesOf,
  type ImageBatch,
  type TokenGrids,
  type TokenGridsLike,
} from "../media/batches.ts";
import type { Tokenizer } from "./types.ts";
import { NearestCodeIndex } from "./nearest.ts";
import { kmeans } from "./kmeans.ts";
import { Rng } from "../util/rng.ts";
import { type NpyArray, parseNpyFile, saveNpyFile } from "../io/npy.ts";
import { readBytes, type ReadOptions } from "../io/read.ts";
import { ManifestError } from "../util/errors.ts";

/** Settings for {@link PatchKMeansTokenizer.train}. */
export interface PatchKMeansTrainOptions {
  /** Number of codes K (default 1024; at most 65536 so tokens fit uint16). */
  k?: number;
  /** Patch side P in pixels (default 2). */
  patch?: number;
  /** Patches drawn (seeded, uniformly over pictures and cells) to fit k-means on (default 200k). */
  samplePatches?: number;
  /** Lloyd iterations (default 20). */
  iterations?: number;
  /** Seed of the patch sample and the k-means++ draws (default 0). */
  seed?: number;
  /** Progress callback, called after each Lloyd iteration. */
  onIteration?: (iteration: number, meanSquaredDistance: number, moved: number) => void;
}

function checkImages(images: ImageBatch, patch: number): void {
  const { n, height, width, data } = images;
  if (data.length !== n * height * width * 3) {
    throw new RangeError(
      `image data has ${data.length} bytes, expected n*height*width*3 = ${n * height * width * 3}`,
    );
  }
  if (height % patch !== 0 || width % patch !== 0) {
    throw new RangeError(
      `image size ${height}x${width} is not divisible by the patch size ${patch}`,
    );
  }
}

/**
 * Copy patch (r, c) of picture i, layout [dy][dx][rgb], into `out` at `offset`.
 */
export function readPatch(
  images: ImageBatch,
  i: number,
  r: number,
  c: number,
  patch: number,
  out: { [index: number]: number },
  offset: number,
): void {
  const { height, width, data } = images;
  let o = offset;
  for (let dy = 0; dy < patch; dy++) {
    let p = ((i * height + r * patch + dy) * width + c * patch) * 3;
    for (let t = 0; t < patch * 3; t++) out[o++] = data[p++];
  }
}

/**
 * Draw `count` patches uniformly (with replacement) over pictures and cells with a seeded
 * generator; returns count * P * P * 3 bytes.
 */
export function samplePatches(
  images: ImageBatch,
  count: number,
  patch: number,
  seed: number,
): Uint8Array {
  checkImages(images, patch);
  const dim = patch * patch * 3;
  const rows = images.height / patch;
  const cols = images.width / patch;
  const rng = new Rng(seed);
  const out = new Uint8Array(count * dim);
  for (let s = 0; s < count; s++) {
    const i = rng.int(images.n);
    const cell = rng.int(rows * cols);
    readPatch(images, i, Math.floor(cell / cols), cell % cols, patch, out, s * dim);
  }
  return out;
}

/** The patch k-means tokenizer: see the module doc. */
export class PatchKMeansTokenizer implements Tokenizer {
  /** Implementation id, as written in model manifests (`tokenizer.kind`). */
  readonly kind = "patch-kmeans";
  /** Patch side P in pixels. */
  readonly downsample: number;
  /** Number of codes K. */
  readonly vocabSize: number;
  /** The codebook, float32 [K, P, P, 3], pixel values 0..255. */
  readonly codebook: Float32Array;
  #codes8: Uint8Array; // rounded codebook for decoding
  #index: NearestCodeIndex;

  /**
   * Wrap a codebook (float32 K * P * P * 3 values, layout [k][dy][dx][rgb], values 0..255).
   * @example
   * const tok = new PatchKMeansTokenizer(new Float32Array(1024 * 12), 2);
   */
  constructor(codebook: Float32Array, patch = 2) {
    const dim = patch * patch * 3;
    if (!Number.isInteger(patch) || patch <= 0) throw new RangeError(`bad patch size ${patch}`);
    if (codebook.length === 0 || codebook.length % dim !== 0) {
      throw new RangeError(
        `codebook length ${codebook.length} is not a multiple of P*P*3 = ${dim}`,
      );
    }
    const k = codebook.length / dim;
    if (k > 65536) throw new RangeError(`K = ${k} codes do not fit uint16 tokens`);
    for (let i = 0; i < codebook.length; i++) {
      if (!(codebook[i] >= 0 && codebook[i] <= 255)) {
        throw new RangeError(`codebook value ${codebook[i]} at ${i} is outside 0..255`);
      }
    }
    this.downsample = patch;
    this.vocabSize = k;
    this.codebook = codebook;
    this.#codes8 = new Uint8Array(codebook.length);
    for (let i = 0; i < codebook.length; i++) this.#codes8[i] = Math.round(codebook[i]);
    this.#index = new NearestCodeIndex(codebook, dim);
  }

  /**
   * Learn a codebook from pictures: seeded patch sample, k-means++ and Lloyd iterations.
   * @example
   * const tok = PatchKMeansTokenizer.train(trainImages, { k: 1024, seed: 0 });
   */
  static train(images: ImageBatch, options: PatchKMeansTrainOptions = {}): PatchKMeansTokenizer {
    const patch = options.patch ?? 2;
    const k = options.k ?? 1024;
    const sample = samplePatches(
      images,
      options.samplePatches ?? 200_000,
      patch,
      options.seed ?? 0,
    );
    const { centroids } = kmeans(sample, patch * patch * 3, {
      k,
      iterations: options.iterations ?? 20,
      seed: options.seed ?? 0,
      onIteration: options.onIteration,
    });
    // Store float32, and encode with exactly those values, so a saved and reloaded codebook
    // reproduces the same tokens.
    const codebook = new Float32Array(centroids.length);
    for (let i = 0; i < centroids.length; i++) {
      codebook[i] = Math.min(255, Math.max(0, centroids[i]));
    }
    return new PatchKMeansTokenizer(codebook, patch);
  }

  /** Build from a float32 [K, P, P, 3] array (as saved by {@link toNpy}). */
  static fromNpy(array: NpyArray): PatchKMeansTokenizer {
    const s = array.shape;
    if (array.dtype !== "float32") {
      throw new Error(`codebook dtype is ${array.dtype}; expected float32`);
    }
    if (s.length !== 4 || s[1] !== s[2] || s[3] !== 3) {
      throw new Error(`codebook shape is (${s.join(", ")}); expected (K, P, P, 3)`);
    }
    return new PatchKMeansTokenizer(array.data as Float32Array, s[1]);
  }

  /**
   * Read a codebook file (`.npy` or `.npy.gz`, float32 [K, P, P, 3]) from a path or a `file:` /
   * `http(s):` URL, within `options`' limits (4 GiB, 60 s without a byte by default). A file
   * that is missing, too large or not a codebook is a {@link ManifestError} naming it.
   */
  static async load(path: string | URL, options: ReadOptions = {}): Promise<PatchKMeansTokenizer> {
    const name = path instanceof URL ? path.href : path;
    return PatchKMeansTokenizer.fromBytes(await readBytes(path, options), name, options.maxBytes);
  }

  /**
   * Build from the bytes of a codebook file named `name` (`.npy`, or gzip-compressed); a bad file
   * is a {@link ManifestError} naming it. `maxBytes` bounds the decompressed size.
   */
  static fromBytes(bytes: Uint8Array, name: string, maxBytes?: number): PatchKMeansTokenizer {
    const array = parseNpyFile(bytes, name, maxBytes);
    try {
      return PatchKMeansTokenizer.fromNpy(array);
    } catch (err) {
      throw new ManifestError(
        `${name}: ${(err as Error).message}. Fix: use a patch k-means codebook (float32 ` +
          "[K, P, P, 3], values 0..255), as `deno task data` writes it",
      );
    }
  }

  /** The codebook as a float32 [K, P, P, 3] array. */
  toNpy(): NpyArray<"float32"> {
    const p = this.downsample;
    return { dtype: "float32", shape: [this.vocabSize, p, p, 3], data: this.codebook };
  }

  /** Write the codebook (`.npy`, or gzip-compressed when the path ends in `.gz`), atomically. */
  async save(path: string | URL): Promise<void> {
    await saveNpyFile(path, this.toNpy());
  }

  /** Synchronous {@link encode}. */
  encodeSync(clips: ImageBatch): TokenGrids {
    const p = this.downsample;
    const images = asFrames(clips); // clips encode frame by frame
    checkImages(images, p);
    const rows = images.height / p;
    const cols = images.width / p;
    const tokens = new Uint16Array(images.n * rows * cols);
    const scratch = new Float64Array(p * p * 3);
    let o = 0;
    for (let i = 0; i < images.n; i++) {
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          readPatch(images, i, r, c, p, scratch, 0);
          tokens[o++] = this.#index.nearest(scratch, 0);
        }
      }
    }
    return { n: clips.n, frames: framesOf(clips), height: rows, width: cols, tokens };
  }

  /** Synchronous {@link decode}. */
  decodeSync(grids: TokenGridsLike): ImageBatch {
    const { n, height: rows, width: cols, tokens } = asFrames(grids); // frame by frame
    if (tokens.length !== n * rows * cols) {
      throw new RangeError(
        `tokens has ${tokens.length} entries, expected n*frames*height*width = ${n * rows * cols}`,
      );
    }
    const p = this.downsample;
    const dim = p * p * 3;
    const height = rows * p;
    const width = cols * p;
    const data = new Uint8Array(n * height * width * 3);
    const codes = this.#codes8;
    let o = 0;
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const code = tokens[o++];
          if (!(code >= 0 && code < this.vocabSize && Number.isInteger(code))) {
            throw new RangeError(
              `token ${code} at position ${o - 1} is not in [0, ${this.vocabSize})`,
            );
          }
          let src = code * dim;
          for (let dy = 0; dy < p; dy++) {
            let dst = ((i * height + r * p + dy) * width + c * p) * 3;
            for (let t = 0; t < p * 3; t++) data[dst++] = codes[src++];
          }
        }
      }
    }
    return { n: grids.n, frames: framesOf(grids), height, width, data };
  }

  /**
   * Encode pictures to token grids (each P x P patch -> nearest code).
   * @example
   * const grids = await tok.encode({ n: 1, height: 48, width: 48, data });
   */
  encode(images: ImageBatch): Promise<TokenGrids> {
    return Promise.resolve().then(() => this.encodeSync(images));
  }

  /** Decode token grids to pictures (codebook lookup, values rounded to bytes). */
  decode(grids: TokenGridsLike): Promise<ImageBatch> {
    return Promise.resolve().then(() => this.decodeSync(grids));
  }
}
