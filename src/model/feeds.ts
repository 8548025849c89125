/**
 * The step contract's inputs as runtime tensors, shared by the onnxruntime-node and
 * onnxruntime-web backends (each passes its own package's Tensor class).
 * @module
 */
import type { StepInputs } from "./ar_model.ts";

/** The Tensor constructor shape both onnxruntime packages share. */
export type TensorConstructor<T> = new (
  type: "int64" | "bool",
  data: BigInt64Array | Uint8Array,
  dims: readonly number[],
) => T;

/**
 * `input_ids`, `position_ids` and `attention_mask` plus the past keys/values, keyed by the
 * contract's input names, for a cache that holds `pastLength` slots.
 */
export function stepFeeds<T>(
  Tensor: TensorConstructor<T>,
  inputs: StepInputs,
  pastLength: number,
  past: { keyNames: string[]; valueNames: string[]; keys: T[]; values: T[] },
): Record<string, T> {
  const { batch, length } = inputs;
  const feeds: Record<string, T> = {
    input_ids: new Tensor("int64", inputs.inputIds, [batch, length]),
    position_ids: new Tensor("int64", inputs.positionIds, [batch, length]),
    attention_mask: new Tensor("bool", inputs.attentionMask, [
      batch,
      1,
      length,
      pastLength + length,
    ]),
  };
  for (let i = 0; i < past.keys.length; i++) {
    feeds[past.keyNames[i]] = past.keys[i];
    feeds[past.valueNames[i]] = past.values[i];
  }
  return feeds;
}
