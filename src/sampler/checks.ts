/**
 * The checks every sampler entry point runs on what it is handed (a hand-built schedule, token
 * and class ids, uniforms), so a bad input is one message naming the problem rather than garbage
 * tokens or NaN scores. Non-finite logits are the model's to report: every backend scans a
 * cache's first step (src/model/feeds.ts `checkFiniteLogits`), and every draw and likelihood
 * checks its own row (`NonFiniteLogitsError`, free: the exponentials' sum turns NaN; an
 * in-graph draw's sampling head returns -1 for such a slot and the sampler reports the same).
 * @module
 */
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
