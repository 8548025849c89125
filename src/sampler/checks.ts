/**
 * The checks every sampler entry point runs on what it is handed (a hand-built schedule, token
 * and class ids, uniforms) and on what the model returns (non-finite logits), so a bad input is
 * one message naming the problem rather than garbage tokens or NaN scores.
 * @module
 */
import type { ModelManifest } from "../model/manifest.ts";
import { type Schedule, validateSchedule } from "../schedule/schedule.ts";
import { SampleOptionsError } from "./settings.ts";

/**
 * One validator for schedules from anywhere (JSON, builders, hand-built objects): every cell
 * exactly once, inside the grid, `transitionSlots` as the step sizes imply, attention `full` or
 * `causal`. Throws a ConfigError naming the field.
 */
export function checkSchedule(schedule: Schedule): void {
  validateSchedule(schedule);
  schedule.steps.forEach((step, s) => {
    if (step.attention !== "full" && step.attention !== "causal") {
      throw new SampleOptionsError(
        `schedule.steps[${s}].attention: "${step.attention}" is neither "full" nor "causal"`,
      );
    }
  });
}

/** Every id an integer in [0, limit): `field` and the fix are named otherwise. */
export function checkIds(
  field: string,
  ids: ArrayLike<number>,
  limit: number,
  what: string,
): void {
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i];
    if (!Number.isInteger(v) || v < 0 || v >= limit) {
      throw new SampleOptionsError(
        `${field}[${i}]: ${v} is not a ${what} in [0, ${limit}). Fix: pass ${what}s below ${limit}`,
      );
    }
  }
}

/** Explicit uniforms must lie in [0, 1): a value outside picks no token or the last one. */
export function checkUniforms(uniforms: ArrayLike<number>): void {
  for (let i = 0; i < uniforms.length; i++) {
    const u = uniforms[i];
    if (!(u >= 0 && u < 1)) {
      throw new SampleOptionsError(
        `uniforms[${i}]: ${u} is outside [0, 1). Fix: pass uniform numbers in [0, 1)`,
      );
    }
  }
}

/**
 * Throw when a step's logits hold NaN or infinity, naming the step, row and slot: a broken or
 * overflowing graph must not sample silently.
 */
export function checkFiniteLogits(
  manifest: Pick<ModelManifest, "name">,
  logits: Float32Array,
  step: number,
  slots: number,
  vocab: number,
): void {
  // One summing pass: NaN and infinities propagate into the sum, while float32 logits cannot
  // add up to a float64 overflow; only a bad sum pays for the search below.
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += logits[i];
  if (Number.isFinite(sum)) return;
  for (let i = 0; i < logits.length; i++) {
    if (!Number.isFinite(logits[i])) {
      const row = Math.floor(i / (slots * vocab));
      const slot = Math.floor(i / vocab) % slots;
      throw new SampleOptionsError(
        `model "${manifest.name}": step ${step} returned ${logits[i]} logits (row ${row}, slot ` +
          `${slot}, token ${i % vocab}). Fix: check the exported graph (fp16 overflow, a broken ` +
          "export) or the inputs it was fed",
      );
    }
  }
}
