/**
 * Can this schedule run on this model? Impossible pairings are errors (a PAR schedule on a model
 * without transition tokens, a grid mismatch); a schedule other than the one the model was
 * trained for is allowed but warned about.
 * @module
 */
import type { ModelManifest } from "../model/manifest.ts";
import { describeGrid, type Schedule, scheduleToJSON } from "../schedule/schedule.ts";

/** A schedule that cannot run on a model, with the reason and the fix. */
export class PairingError extends Error {
  /**
   * A model that does not fit the schedule or tokenizer it is paired with.
   * @param message full message naming the problem and the fix
   */
  constructor(message: string) {
    super(message);
    this.name = "PairingError";
  }
}

/**
 * Check a (model, schedule) pairing. Throws {@link PairingError} when impossible; returns a
 * warning string when the schedule differs from the trained one, else null.
 */
export function checkPairing(manifest: ModelManifest, schedule: Schedule): string | null {
  const g = manifest.grid;
  const s = schedule.grid;
  if (g.frames !== s.frames || g.height !== s.height || g.width !== s.width) {
    throw new PairingError(
      `schedule "${schedule.name}" is on a ${describeGrid(s)} grid but model "${manifest.name}" ` +
        `generates ${describeGrid(g)}. Fix: build the schedule on makeGrid(${g.height}, ${g.width}${
          g.frames > 1 ? `, ${g.frames}` : ""
        })`,
    );
  }
  if (schedule.transitionSlots > manifest.transitionTokens) {
    throw new PairingError(
      manifest.transitionTokens === 0
        ? `schedule "${schedule.name}" samples several cells a step and needs ${schedule.transitionSlots} ` +
          `transition tokens, but model "${manifest.name}" has none (a raster model). ` +
          (schedule.name.startsWith("zipar")
            ? "Fix: decode ZipAR's order with sampleZipAR (it feeds a raster model its own slots)"
            : "Fix: use a model trained with transition tokens (a PAR model), the raster " +
              "schedule, or a training-free decoder (sampleZipAR, sampleJacobi)")
        : `schedule "${schedule.name}" needs ${schedule.transitionSlots} transition tokens but model ` +
          `"${manifest.name}" has ${manifest.transitionTokens}. Fix: use a schedule with at most ` +
          `${manifest.transitionTokens + 1} cells a step`,
    );
  }
  const trained = manifest.schedule;
  if (trained && scheduleToJSON(trained as Schedule) !== scheduleToJSON(schedule)) {
    return `model "${manifest.name}" was trained for schedule "${trained.name}" but runs "${schedule.name}": ` +
      "expect lower quality";
  }
  return null;
}
