/**
 * A VQ tokenizer on two ONNX graphs, as python/vq exports LlamaGen's `VQModel` (the tokenizer of
 * every official PAR and LlamaGen checkpoint; `vq_ds16_c2i.pt`: codebook 16384 x 8, downsample
 * 16): `encode` takes pixels in [-1, 1] (NCHW float32) and gives code ids, `decode` takes code
 * ids and gives pixels. The conversions between parlab's uint8 RGB pictures (NHWC) and the
 * graphs' layout and range happen inside, so callers see the same {@link Tokenizer} as the
 * patch k-means one. A manifest (`format: "parlab-tokenizer/1"`) names the graphs with their
 * sha256 and sizes. Clips are encoded and decoded frame by frame.
 * @module
 */
import { z } from "../deps/zod.ts";
import type { OrtNode, OrtNodeTypes } from "../deps/ort.ts";
import {
  asFrames,
  framesOf,
  type ImageBatch,
  type TokenGrids,
  type TokenGridsLike,
} from "../media/batches.ts";
import { openReferencedGraph } from "../runtime/ort_node.ts";
import { type LoadLimits, readManifestJson } from "../runtime/files.ts";
import { ManifestError } from "../util/errors.ts";
import type { Tokenizer } from "./types.ts";

const FileSchema = z.object({
  path: z.string().min(1),
  bytes: z.number().int().positive().optional(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits"),
});

const GraphSchema = z.object({
  onnx: z.string().min(1),
  input: z.string().min(1),
  output: z.string().min(1),
});

/** Zod schema of a tokenizer manifest (`format: "parlab-tokenizer/1"`, kind `vq`). */
export const VqManifestSchema = z.object({
  format: z.literal("parlab-tokenizer/1"),
  kind: z.literal("vq"),
  name: z.string().min(1),
  codebookSize: z.number().int().min(2).max(65536, "at most 65536 (uint16 tokens)"),
  embedDim: z.number().int().positive(),
  downsample: z.number().int().positive(),
  imageSize: z.number().int().positive(),
  grid: z.object({ height: z.number().int().positive(), width: z.number().int().positive() }),
  channels: z.literal(3),
  pixels: z.object({
    layout: z.literal("NCHW"),
    channels: z.literal("RGB"),
    range: z.tuple([z.literal(-1), z.literal(1)]),
  }).passthrough(),
  encode: GraphSchema,
  decode: GraphSchema,
  files: z.array(FileSchema).min(2),
}).passthrough();

/** A validated tokenizer manifest. */
export type VqManifest = z.infer<typeof VqManifestSchema>;

/** Options of {@link VqTokenizer.load}. */
export interface VqLoadOptions extends LoadLimits {
  /** Intra-op threads of the CPU sessions (default: the runtime's choice). */
  threads?: number;
  /** Pictures per graph call (default 8). */
  batchSize?: number;
  /** Skip the sha256 checks (default false). */
  skipHashCheck?: boolean;
}

/** Parse a tokenizer manifest; a bad field is a {@link ManifestError} naming it and the fix. */
export function parseVqManifest(json: unknown, where: string): VqManifest {
  const parsed = VqManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.map(String).join(".") || "(root)";
    throw new ManifestError(
      `${where}: field "${field}": ${issue.message}. Fix: re-export the tokenizer with ` +
        "python -m python.vq (or correct the field by hand)",
    );
  }
  for (const graph of [parsed.data.encode, parsed.data.decode]) {
    if (!parsed.data.files.some((f) => f.path === graph.onnx)) {
      throw new ManifestError(
        `${where}: "${graph.onnx}" is not listed in "files" with its sha256. Fix: re-export`,
      );
    }
  }
  return parsed.data;
}

/**
 * Byte value -> [-1, 1] exactly as torchvision's ToTensor + Normalize(0.5, 0.5) compute it in
 * float32 (v / 255, then (x - 0.5) / 0.5, each rounded), which LlamaGen's code extraction uses;
 * v / 127.5 - 1 differs in the last bit for half the values.
 */
const TO_UNIT = Float32Array.from({ length: 256 }, (_, v) => {
  const x = Math.fround(v / 255);
  return Math.fround(Math.fround(x - 0.5) / 0.5);
});

/** The LlamaGen VQ tokenizer on onnxruntime-node (see the module doc). */
export class VqTokenizer implements Tokenizer {
  readonly kind = "vq";
  /** The validated manifest. */
  readonly manifest: VqManifest;
  /** Where the manifest was read from. */
  readonly source: URL;
  readonly #ort: OrtNode;
  readonly #encoder: OrtNodeTypes.InferenceSession;
  readonly #decoder: OrtNodeTypes.InferenceSession;
  readonly #batch: number;

  private constructor(
    manifest: VqManifest,
    source: URL,
    ort: OrtNode,
    encoder: OrtNodeTypes.InferenceSession,
    decoder: OrtNodeTypes.InferenceSession,
    batch: number,
  ) {
    this.manifest = manifest;
    this.source = source;
    this.#ort = ort;
    this.#encoder = encoder;
    this.#decoder = decoder;
    this.#batch = batch;
  }

  /** Number of codes K. */
  get vocabSize(): number {
    return this.manifest.codebookSize;
  }

  /** Pixels per token side (16 for LlamaGen's VQ-16). */
  get downsample(): number {
    return this.manifest.downsample;
  }

  /**
   * Load a tokenizer from its manifest (a path or URL), both graphs hash-checked.
   * @example
   * const vq = await VqTokenizer.load("fixtures/tokenizers/vq-tiny16.tokenizer.json");
   * const pictures = await vq.decode({ n: 1, height: 24, width: 24, tokens }); // 384 x 384
   */
  static async load(location: string | URL, options: VqLoadOptions = {}): Promise<VqTokenizer> {
    const { json, url, name } = await readManifestJson(location, options);
    const manifest = parseVqManifest(json, name);
    const session = async (graph: VqManifest["encode"], field: string) => {
      const file = manifest.files.find((f) => f.path === graph.onnx)!;
      const { ort, session } = await openReferencedGraph(url, {
        file: graph.onnx,
        field,
        sha256: options.skipHashCheck ? undefined : file.sha256,
        bytes: file.bytes,
        fix: "the graph and its tokenizer manifest do not belong together; re-export both",
      }, options);
      const missing = [
        ...(session.inputNames.includes(graph.input) ? [] : [`input "${graph.input}"`]),
        ...(session.outputNames.includes(graph.output) ? [] : [`output "${graph.output}"`]),
      ];
      if (missing.length) {
        throw new ManifestError(
          `${graph.onnx}: the graph has no ${missing.join(" or ")} (it has inputs ` +
            `[${session.inputNames}] and outputs [${session.outputNames}]). Fix: set ` +
            `${field}.input / ${field}.output to the graph's names, or re-export`,
        );
      }
      return { ort, session };
    };
    const enc = await session(manifest.encode, "encode");
    const dec = await session(manifest.decode, "decode");
    const batch = options.batchSize ?? 8;
    if (!Number.isInteger(batch) || batch < 1) {
      throw new ManifestError(`batchSize: ${batch} must be a positive integer`);
    }
    return new VqTokenizer(manifest, url, enc.ort, enc.session, dec.session, batch);
  }

  /**
   * Encode pictures (uint8 RGB; sides divisible by `downsample`, e.g. 384 x 384 -> 24 x 24) to
   * code grids: pixels go to [-1, 1] as torchvision's (x / 255 - 0.5) / 0.5 in float32, NCHW.
   */
  async encode(clips: ImageBatch): Promise<TokenGrids> {
    const images = asFrames(clips);
    const { n, height, width, data } = images;
    const p = this.downsample;
    if (height % p !== 0 || width % p !== 0 || height < p || width < p) {
      throw new ManifestError(
        `pictures: ${height}x${width} is not a multiple of the tokenizer's ${p}-pixel tokens. ` +
          `Fix: resize or crop to e.g. ${this.manifest.imageSize}x${this.manifest.imageSize}`,
      );
    }
    if (data.length !== n * height * width * 3) {
      throw new RangeError(`pictures: ${data.length} bytes, expected n*height*width*3`);
    }
    const plane = height * width;
    const x = new Float32Array(n * 3 * plane);
    for (let i = 0; i < n; i++) {
      const src = i * plane * 3;
      for (let q = 0; q < plane; q++) {
        for (let c = 0; c < 3; c++) x[(i * 3 + c) * plane + q] = TO_UNIT[data[src + q * 3 + c]];
      }
    }
    const tokens = await this.encodePixels(x, n, height, width);
    const rows = height / p;
    const cols = width / p;
    return { n: clips.n, frames: framesOf(clips), height: rows, width: cols, tokens };
  }

  /**
   * The encode graph on float pixels: `x` is [n, 3, height, width] in [-1, 1]; returns the
   * [n, height / downsample, width / downsample] code ids.
   */
  async encodePixels(
    x: Float32Array,
    n: number,
    height: number,
    width: number,
  ): Promise<Uint16Array> {
    const p = this.downsample;
    const rows = height / p;
    const cols = width / p;
    const plane = height * width;
    if (x.length !== n * 3 * plane || !Number.isInteger(rows) || !Number.isInteger(cols)) {
      throw new RangeError(`pixels: ${x.length} values are not [${n}, 3, ${height}, ${width}]`);
    }
    const tokens = new Uint16Array(n * rows * cols);
    for (let start = 0; start < n; start += this.#batch) {
      const count = Math.min(this.#batch, n - start);
      const chunk = x.subarray(start * 3 * plane, (start + count) * 3 * plane);
      const out = await this.#encoder.run({
        [this.manifest.encode.input]: new this.#ort.Tensor("float32", chunk, [
          count,
          3,
          height,
          width,
        ]),
      });
      const ids = out[this.manifest.encode.output].data as BigInt64Array | Int32Array;
      if (ids.length !== count * rows * cols) {
        throw new ManifestError(
          `${this.manifest.encode.onnx}: gave ${ids.length} codes for ${count} pictures of ` +
            `${rows}x${cols} tokens. Fix: re-export the tokenizer`,
        );
      }
      for (let i = 0; i < ids.length; i++) tokens[start * rows * cols + i] = Number(ids[i]);
    }
    return tokens;
  }

  /**
   * The decode graph on code ids: [n, rows, cols] ids in; [n, 3, rows x downsample,
   * cols x downsample] float pixels out (about [-1, 1]; not clamped).
   */
  async decodePixels(
    tokens: ArrayLike<number>,
    n: number,
    rows: number,
    cols: number,
  ): Promise<Float32Array> {
    if (tokens.length !== n * rows * cols) {
      throw new RangeError(
        `tokens has ${tokens.length} entries, expected n*frames*height*width = ${n * rows * cols}`,
      );
    }
    const K = this.vocabSize;
    const p = this.downsample;
    const plane = rows * p * cols * p;
    const out = new Float32Array(n * 3 * plane);
    for (let start = 0; start < n; start += this.#batch) {
      const count = Math.min(this.#batch, n - start);
      const ids = new BigInt64Array(count * rows * cols);
      for (let i = 0; i < ids.length; i++) {
        const code = tokens[start * rows * cols + i];
        if (!(Number.isInteger(code) && code >= 0 && code < K)) {
          throw new RangeError(
            `token ${code} at position ${start * rows * cols + i} is not in [0, ${K})`,
          );
        }
        ids[i] = BigInt(code);
      }
      const res = await this.#decoder.run({
        [this.manifest.decode.input]: new this.#ort.Tensor("int64", ids, [count, rows, cols]),
      });
      const x = res[this.manifest.decode.output].data as Float32Array;
      if (x.length !== count * 3 * plane) {
        throw new ManifestError(
          `${this.manifest.decode.onnx}: gave ${x.length} values for ${count} pictures of ` +
            `${rows * p}x${cols * p}x3. Fix: re-export the tokenizer`,
        );
      }
      out.set(x, start * 3 * plane);
    }
    return out;
  }

  /**
   * Decode code grids to uint8 RGB pictures of (height x downsample) x (width x downsample):
   * the graph's [-1, 1] pixels become clamp(127.5 x + 128, 0, 255), truncated (LlamaGen's
   * `(x + 1) * 127.5 + 0.5` then a uint8 cast).
   */
  async decode(clips: TokenGridsLike): Promise<ImageBatch> {
    const { n, height: rows, width: cols, tokens } = asFrames(clips);
    const p = this.downsample;
    const height = rows * p;
    const width = cols * p;
    const plane = height * width;
    const x = await this.decodePixels(tokens, n, rows, cols);
    const data = new Uint8Array(n * plane * 3);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) {
        const src = (i * 3 + c) * plane;
        for (let q = 0; q < plane; q++) {
          const v = Math.trunc(127.5 * x[src + q] + 128);
          data[i * plane * 3 + q * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
        }
      }
    }
    return { n: clips.n, frames: framesOf(clips), height, width, data };
  }

  /** Release both sessions. */
  async dispose(): Promise<void> {
    await this.#encoder.release();
    await this.#decoder.release();
  }
}
