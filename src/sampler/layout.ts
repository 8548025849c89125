/**
 * Model inputs from a schedule: token ids, position ids and attention masks for one step (with
 * a KV cache) or for a whole sequence at once (teacher forcing). The slot layout itself is
 * `stepSlots` in src/schedule; this module turns it into tensors.
 * @module
 */
import type { StepInputs } from "../model/ar_model.ts";
import {
  classTokenId,
  type ModelManifest,
  nullClassId,
  transitionTokenId,
} from "../model/manifest.ts";
import type { Slot, StepAttention } from "../schedule/schedule.ts";

/** What fills each batch row's class slot: a class index, or `null` for the unconditional row. */
export type RowClass = number | null;

/**
 * Build the inputs of one step for every row.
 * @param slots the step's input slots (from `stepSlots`)
 * @param attention attention among this step's slots
 * @param rowClasses class of each row (null: unconditional)
 * @param tokens sampled tokens so far, [images, cells]; row r reads image `imageOfRow[r]`
 * @param imageOfRow which image a row belongs to (CFG rows share their image's tokens)
 * @param pastLength slots already in the cache
 */
export function buildStepInputs(
  manifest: ModelManifest,
  slots: readonly Slot[],
  attention: StepAttention,
  rowClasses: readonly RowClass[],
  tokens: Int32Array,
  cellsPerImage: number,
  imageOfRow: readonly number[],
  pastLength: number,
): StepInputs {
  const batch = rowClasses.length;
  const T = slots.length;
  const inputIds = new BigInt64Array(batch * T);
  const positionIds = new BigInt64Array(batch * T);
  // Written through 32-bit views (low word, then the sign in the high word; little-endian, as
  // every platform Deno runs on): BigInt() per slot was a measurable share of a small model's step.
  const ids32 = new Int32Array(inputIds.buffer);
  const pos32 = new Int32Array(positionIds.buffer);
  for (let r = 0; r < batch; r++) {
    const cls = rowClasses[r];
    const base = imageOfRow[r] * cellsPerImage;
    for (let i = 0; i < T; i++) {
      const slot = slots[i];
      let id: number;
      if (slot.kind === "class") {
        id = cls === null ? nullClassId(manifest) : classTokenId(manifest, cls);
      } else if (slot.kind === "transition") id = transitionTokenId(manifest, slot.transition);
      else id = tokens[base + slot.cell];
      const k = 2 * (r * T + i);
      ids32[k] = id;
      ids32[k + 1] = id < 0 ? -1 : 0;
      pos32[k] = slot.cell;
      pos32[k + 1] = slot.cell < 0 ? -1 : 0;
    }
  }
  const width = pastLength + T;
  const one = new Uint8Array(T * width);
  for (let i = 0; i < T; i++) {
    one.fill(1, i * width, i * width + pastLength + (attention === "full" ? T : i + 1));
  }
  const attentionMask = new Uint8Array(batch * T * width);
  for (let r = 0; r < batch; r++) attentionMask.set(one, r * T * width);
  return { batch, length: T, inputIds, positionIds, attentionMask };
}

/**
 * Inputs for a whole schedule in one pass (no cache): every step's slots concatenated; slot a
 * attends slot b iff b's step is earlier, or the same step and (full attention or b <= a).
 */
export function buildSequenceInputs(
  manifest: ModelManifest,
  slotsPerStep: readonly (readonly Slot[])[],
  attentions: readonly StepAttention[],
  rowClasses: readonly RowClass[],
  tokens: Int32Array,
  cellsPerImage: number,
  imageOfRow: readonly number[],
): StepInputs {
  const flat: Slot[] = slotsPerStep.flat();
  const L = flat.length;
  const base = buildStepInputs(
    manifest,
    flat,
    "full",
    rowClasses,
    tokens,
    cellsPerImage,
    imageOfRow,
    0,
  );
  const one = new Uint8Array(L * L);
  let start = 0;
  slotsPerStep.forEach((slots, s) => {
    const T = slots.length;
    for (let i = 0; i < T; i++) {
      const a = start + i;
      one.fill(1, a * L, a * L + start + (attentions[s] === "full" ? T : i + 1));
    }
    start += T;
  });
  const attentionMask = new Uint8Array(rowClasses.length * L * L);
  for (let r = 0; r < rowClasses.length; r++) attentionMask.set(one, r * L * L);
  return { ...base, attentionMask };
}
