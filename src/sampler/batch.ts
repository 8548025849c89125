/**
 * Sampling many images in batches, with one seed for the whole set: image i always uses the
 * same uniform numbers whatever the batch size, so a run can be resumed or re-batched and still
 * give the same tokens.
 * @module
 */
import type { ARModel } from "../model/ar_model.ts";
import { cellCount } from "../media/grid.ts";
import type { Schedule } from "../schedule/schedule.ts";
import { Rng } from "../util/rng.ts";
import { checkAllocation } from "../util/limits.ts";
import { sample, type SampleOptions, type SampleResult } from "./sampler.ts";
import { SampleOptionsError } from "./settings.ts";

/** Options of {@link sampleMany}: {@link SampleOptions} plus the batch size. */
export interface SampleManyOptions extends Omit<SampleOptions, "uniforms" | "onStep"> {
  /** Images per forward batch (default 8; guidance doubles the rows). */
  batchSize?: number;
  /**
   * Index of this call's first image in a larger run (default 0): its uniforms start where the
   * whole run's stream has that image, so a run split into shards samples the same tokens.
   */
  firstImage?: number;
  /** Progress: images finished, images in all. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Tokens of the first `resume.length / cells` images, sampled earlier with the same model,
   * schedule, settings, classes and seed: they are taken as they are and sampling starts after
   * them (the uniforms of later images do not depend on where a run stopped).
   */
  resume?: Int32Array;
  /**
   * Called after each batch with its first image index and its tokens ([n, cells]), and awaited:
   * the place to save finished work so an interrupted run can be resumed.
   */
  onBatch?: (start: number, tokens: Int32Array) => void | Promise<void>;
}

/** Result of {@link sampleMany}: all tokens plus each batch's result (for timing traces). */
export interface SampleManyResult {
  /** [images, cells] in flat grid order. */
  tokens: Int32Array;
  /** Number of images. */
  images: number;
  /** The schedule that ran. */
  schedule: Schedule;
  /** Per-batch results of this call, for their step traces. */
  batches: SampleResult[];
  /** Images taken from `resume` rather than sampled by this call. */
  resumed: number;
  /** Wall seconds of this call. */
  seconds: number;
  /** Model runtime seconds of this call. */
  modelSeconds: number;
}

/**
 * Sample `classes.length` images in batches of `batchSize`, image i drawing its tokens from
 * uniforms `i * cells ... (i + 1) * cells - 1` of the stream seeded by `seed`.
 * @example
 * const run = await sampleMany(model, { schedule, classes: [0, 0, 1, 1], seed: 7, batchSize: 2 });
 * run.tokens; // Int32Array [4 * cells]
 */
export async function sampleMany(
  model: ARModel,
  options: SampleManyOptions,
): Promise<SampleManyResult> {
  const images = options.classes.length;
  const cells = cellCount(options.schedule.grid);
  // Uniforms (float64) and tokens (int32) of every image are held at once.
  checkAllocation(
    "classes",
    `sampling ${images.toLocaleString("en-US")} images of ${cells} cells`,
    images * cells * 12,
    "sample fewer images per call (several runs with different seeds, or shards)",
  );
  const first = options.firstImage ?? 0;
  if (!Number.isSafeInteger(first) || first < 0) {
    throw new SampleOptionsError(`firstImage: ${first} is not a non-negative integer`);
  }
  const uniforms = new Rng(options.seed ?? 0).skip(first * cells).uniforms(images * cells);
  const tokens = new Int32Array(images * cells);
  const batchSize = Math.max(1, options.batchSize ?? 8);
  const batches: SampleResult[] = [];
  const t0 = performance.now();
  let modelSeconds = 0;
  const resumed = options.resume ? options.resume.length / cells : 0;
  if (!Number.isInteger(resumed) || resumed > images) {
    throw new SampleOptionsError(
      `resume: ${options.resume!.length} tokens are not whole images of ${cells} cells within ` +
        `the ${images} asked for. Fix: pass the tokens of an earlier run's first images`,
    );
  }
  if (options.resume) {
    tokens.set(options.resume);
    options.onProgress?.(resumed, images);
  }
  for (let i = resumed; i < images; i += batchSize) {
    const n = Math.min(batchSize, images - i);
    const r = await sample(model, {
      ...options,
      classes: options.classes.slice(i, i + n),
      uniforms: uniforms.subarray(i * cells, (i + n) * cells),
      onWarning: i === resumed ? options.onWarning : () => {},
    });
    tokens.set(r.tokens, i * cells);
    await options.onBatch?.(i, r.tokens);
    modelSeconds += r.modelSeconds;
    batches.push(r);
    options.onProgress?.(i + n, images);
  }
  return {
    tokens,
    images,
    schedule: options.schedule,
    batches,
    resumed,
    seconds: (performance.now() - t0) / 1000,
    modelSeconds,
  };
}
