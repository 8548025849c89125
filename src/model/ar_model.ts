/**
 * The backend-neutral interface of an autoregressive image-token model that runs one decoding
 * step at a time under the ONNX step contract (see the README's "model contract").
 * @module
 */
import type { ConcreteBackend } from "../runtime/backends.ts";
import type { LoadLimits } from "../runtime/files.ts";
import type { ModelManifest } from "./manifest.ts";

/** The inputs of one decoding step for `batch` rows of `length` slots each. */
export interface StepInputs {
  /** Rows in the batch (images, doubled when guidance runs unconditional rows). */
  batch: number;
  /** Slots fed in this step (T). */
  length: number;
  /** [batch, T] token ids in the model's single id space. */
  inputIds: BigInt64Array;
  /** [batch, T] flat cell index of each slot; -1 for class and transition slots. */
  positionIds: BigInt64Array;
  /**
   * [batch, 1, T, P+T] where a query may attend (1) or not (0), P = the cache's length.
   * Past slots come first, then this step's slots.
   */
  attentionMask: Uint8Array;
  /**
   * Draw the tokens inside the graph too (only for models whose manifest has `samplingHead`;
   * see {@link StepDraw}). Absent: the step returns logits only.
   */
  draw?: StepDraw;
}

/**
 * The in-graph draw of one step (python/sampling_head.py), the rule of `TokenDrawer.draw` in
 * float32: the conditional rows are the first `uniforms.length / length` rows, the
 * unconditional ones (when `guided`) the last as many.
 */
export interface StepDraw {
  /** [images, T] the uniform of each slot in [0, 1); 0 for slots that draw nothing. */
  uniforms: Float32Array;
  /** Guidance scale s of `u + s (c - u)`. */
  cfgScale: number;
  /** Guide this step (needs the unconditional rows); false draws from the conditional logits. */
  guided: boolean;
  /** Softmax temperature (> 0). */
  temperature: number;
  /** Keep the k most likely ids; 0 (or >= V) keeps all. */
  topK: number;
  /** Keep the smallest ranked set whose mass reaches topP; 1 keeps all. */
  topP: number;
  /**
   * Return the logits as well (default false). Without it the backends fetch them only at a
   * cache's first step (they scan it for non-finite values once): onnxruntime-node then copies
   * nothing out, and on WebGPU they stay on the GPU, so only the token ids are downloaded.
   */
  keepLogits?: boolean;
}

/** The key/value cache of one batch: owned by the sampler, appended by every step. */
export interface KVCache {
  /** Rows in the batch. */
  readonly batch: number;
  /** Slots cached so far (P). */
  readonly length: number;
}

/** What one step returns. */
export interface StepOutput {
  /**
   * [batch, T, V] float32 logits; empty (length 0) when the step drew its tokens in the graph
   * ({@link StepInputs.draw}) without `keepLogits`, except at a cache's first step.
   */
  logits: Float32Array;
  /**
   * [images, T] the ids drawn in the graph, when the step had a {@link StepInputs.draw}; -1 marks
   * a slot whose logits were not finite (NaN, +Infinity or all -Infinity).
   */
  tokens?: Int32Array;
  /** Seconds spent inside the runtime for this step (without input building). */
  modelSeconds: number;
}

/** An AR token model that decodes one step at a time with a KV cache. */
export interface ARModel {
  /** The validated manifest (vocabulary, classes, grid, geometry, defaults). */
  readonly manifest: ModelManifest;
  /** Where the manifest was read from (relative paths in it resolve against this). */
  readonly source: URL;
  /** Where the model runs, e.g. `onnxruntime-node cpu` or `onnxruntime-web webgpu (adapter)`. */
  readonly backend: string;
  /** The backend table's name for it (`cpu`, `cuda` or `webgpu`). */
  readonly backendName: ConcreteBackend;
  /**
   * The limits and trust it was loaded with (timeout, sizes, `allowOutside`); the tokenizer its
   * manifest names loads under the same ones.
   */
  readonly loadLimits?: LoadLimits;
  /**
   * An empty cache for `batch` rows. `slots`, when given, is how many slots the run will cache
   * at most (the sampler knows its schedule's): a backend that keeps the cache in host memory
   * reserves it once. A hint: caching more still works.
   */
  newCache(batch: number, slots?: number): KVCache;
  /** Run one step; appends this step's keys/values to `cache`. */
  step(cache: KVCache, inputs: StepInputs): Promise<StepOutput>;
  /** Drop cached slots beyond `length` (speculative schedules roll back rejected drafts). */
  truncate(cache: KVCache, length: number): void;
  /** Free native resources. */
  dispose(): Promise<void>;
}
