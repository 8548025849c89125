/**
 * The step contract's inputs as runtime tensors, shared by the onnxruntime-node and
 * onnxruntime-web backends (each passes its own package's Tensor class).
 * @module
 */
import type { StepInputs } from "./ar_model.ts";
import type { ModelManifest } from "./manifest.ts";
import { ManifestError } from "../util/errors.ts";

/** The Tensor constructor shape both onnxruntime packages share. */
export type TensorConstructor<T> = new (
  type: "int64" | "bool",
  data: BigInt64Array | Uint8Array,
  dims: readonly number[],
) => T;

/** The contract's past-cache input names, layer by layer. */
export interface PastNames {
  keyNames: string[];
  valueNames: string[];
}

/**
 * `input_ids`, `position_ids` and `attention_mask` plus the past keys/values, keyed by the
 * contract's input names, for a cache of `cache.batch` rows holding `cache.length` slots. Throws
 * when the step's batch is not the cache's.
 */
export function stepFeeds<T>(
  Tensor: TensorConstructor<T>,
  inputs: StepInputs,
  cache: { batch: number; length: number },
  names: PastNames,
  past: { keys: T[]; values: T[] },
): Record<string, T> {
  const { batch, length } = inputs;
  if (batch !== cache.batch) {
    throw new Error(`step batch ${batch} differs from the cache's ${cache.batch}`);
  }
  const feeds: Record<string, T> = {
    input_ids: new Tensor("int64", inputs.inputIds, [batch, length]),
    position_ids: new Tensor("int64", inputs.positionIds, [batch, length]),
    attention_mask: new Tensor("bool", inputs.attentionMask, [
      batch,
      1,
      length,
      cache.length + length,
    ]),
  };
  for (let i = 0; i < past.keys.length; i++) {
    feeds[names.keyNames[i]] = past.keys[i];
    feeds[names.valueNames[i]] = past.values[i];
  }
  return feeds;
}

/** The contract's past-cache input names of a model with `layers` layers. */
export function pastInputNames(layers: number): PastNames {
  return {
    keyNames: Array.from({ length: layers }, (_, i) => `past.${i}.key`),
    valueNames: Array.from({ length: layers }, (_, i) => `past.${i}.value`),
  };
}

/**
 * Throw a {@link ManifestError} naming every step-contract input the loaded graph lacks (the
 * past caches of `manifest.layers` layers, `input_ids`, `position_ids`, `attention_mask`).
 */
export function checkContractInputs(inputNames: readonly string[], manifest: ModelManifest): void {
  const { keyNames, valueNames } = pastInputNames(manifest.layers);
  const missing = [...keyNames, ...valueNames, "input_ids", "position_ids", "attention_mask"]
    .filter((n) => !inputNames.includes(n));
  if (missing.length) {
    throw new ManifestError(
      `${manifest.onnx}: the graph lacks inputs ${missing.join(", ")} (manifest says ` +
        `${manifest.layers} layers). Fix: export with python/ under the step contract`,
    );
  }
}

/**
 * The first `keep` of `past` slots of a `[rows, past, headDim]` float32 cache tensor (rows =
 * batch x kv heads), as a new `[rows, keep, headDim]` array: the CPU half of `truncate()`.
 */
export function keepSlots(
  data: Float32Array,
  rows: number,
  past: number,
  keep: number,
  headDim: number,
): Float32Array {
  const out = new Float32Array(rows * keep * headDim);
  for (let r = 0; r < rows; r++) {
    out.set(data.subarray(r * past * headDim, (r * past + keep) * headDim), r * keep * headDim);
  }
  return out;
}
