/**
 * What the training-free strategies (ZipAR in zipar.ts, Speculative Jacobi Decoding in
 * jacobi.ts) share: the check that a model was trained in raster order, the class list, the
 * batch rows (conditional rows first, then unconditional), per-image random streams, and the
 * result types they add to {@link SampleResult}.
 * @module
 */
import type { ARModel } from "../model/ar_model.ts";
import type { ModelManifest } from "../model/manifest.ts";
import { cellCount } from "../media/grid.ts";
import { Rng } from "../util/rng.ts";
import type { RowClass } from "./layout.ts";
import { PairingError } from "./pairing.ts";
import { SampleOptionsError } from "./settings.ts";

/**
 * Why a raster-trained model: both methods feed cell c's token at position c and read that
 * slot's output as the distribution of cell c + 1, the raster successor. A model trained for
 * another order (PAR, raster groups) predicts its own order's next cell from the same slot, so
 * the tokens would be drawn from the wrong conditionals. Refused when the manifest names another
 * trained order; a warning when it names none (parlab cannot check it).
 * @returns the warning, or null
 */
export function checkRasterTrained(manifest: ModelManifest, method: string): string | null {
  const trained = manifest.schedule;
  if (!trained) {
    return `model "${manifest.name}" names no trained schedule; ${method} assumes it was ` +
      "trained in raster order (each slot predicting the next raster cell)";
  }
  const C = cellCount(manifest.grid);
  const raster = trained.steps.length === C &&
    trained.steps.every((s, i) => s.cells.length === 1 && s.cells[0] === i);
  if (!raster) {
    throw new PairingError(
      `model "${manifest.name}" was trained for schedule "${trained.name}", not raster order: ` +
        `${method} reads each slot's output as the next raster cell's distribution. Fix: use a ` +
        "raster-trained model (e.g. fixtures/models/emoji-raster.json), or sample() with the " +
        `model's own schedule "${trained.name}"`,
    );
  }
  return null;
}

/** Class indices: non-empty, non-negative integers below the model's class count. */
export function checkClassList(manifest: ModelManifest, classes: readonly number[]): number[] {
  if (!Array.isArray(classes) || classes.length === 0) {
    throw new SampleOptionsError("classes: give at least one class index (one image per entry)");
  }
  const bad = classes.find((c) => !Number.isInteger(c) || c < 0);
  if (bad !== undefined) {
    throw new SampleOptionsError(`classes: ${bad} is not a class index (a non-negative integer)`);
  }
  const out = classes.find((c) => c >= manifest.numClasses);
  if (out !== undefined) {
    throw new SampleOptionsError(
      `classes: class ${out} is out of range; model "${manifest.name}" has ` +
        `${manifest.numClasses} classes (0..${manifest.numClasses - 1})`,
    );
  }
  return [...classes];
}

/** The batch rows: one per image, plus one unconditional row per image under guidance. */
export interface BatchRows {
  /** Class of each row (null: unconditional); conditional rows first. */
  rowClasses: RowClass[];
  /** Image of each row. */
  imageOfRow: number[];
}

/** Rows for `classes`, doubled (unconditional rows after) when guidance is on. */
export function batchRows(classes: readonly number[], guided: boolean): BatchRows {
  const rowClasses: RowClass[] = guided ? [...classes, ...classes.map(() => null)] : [...classes];
  return { rowClasses, imageOfRow: rowClasses.map((_, r) => r % classes.length) };
}

/** Uniform numbers an image's stream may use before it would reach the next image's. */
const STREAM_STRIDE = 2 ** 32;

/**
 * The random stream of image `image` of a run seeded `seed`: the seeded stream jumped ahead by
 * image x 2^32 uniforms, so each image has its own stream whatever the batch it is in.
 */
export function imageStream(seed: number, image: number): Rng {
  return new Rng(seed).skip(image * STREAM_STRIDE);
}

/** Where the first image of a call sits in a larger run (its random stream). */
export function checkImageOffset(offset: unknown): number {
  if (offset === undefined) return 0;
  if (
    typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0 || offset > 2 ** 20
  ) {
    throw new SampleOptionsError(
      `imageOffset: ${String(offset)} is not an image index in 0..${2 ** 20}. Fix: pass the ` +
        "index of this call's first image in the whole run (0 for a single call)",
    );
  }
  return offset;
}

/**
 * Refuse a model whose cache cannot be rolled back: `truncate` missing, or throwing on a no-op
 * cut of an empty cache.
 */
export function checkTruncation(model: ARModel, method: string): void {
  const fix = "Fix: load the model with a backend that implements ARModel.truncate " +
    "(cpu, cuda and webgpu all do), or use sampleZipAR / sample(), which never roll back";
  if (typeof model.truncate !== "function") {
    throw new SampleOptionsError(
      `model "${model.manifest.name}" on ${model.backend} has no KV-cache truncation, which ` +
        `${method} needs to drop rejected drafts. ${fix}`,
    );
  }
  const cache = model.newCache(1);
  try {
    model.truncate(cache, 0);
  } catch (err) {
    throw new SampleOptionsError(
      `model "${model.manifest.name}" on ${model.backend} cannot truncate its KV cache ` +
        `(${(err as Error).message}), which ${method} needs to drop rejected drafts. ${fix}`,
    );
  }
}
