/**
 * Sampling many images in batches, with one seed for the whole set: image i always uses the
 * same uniform numbers whatever the batch size, so a run can be resumed or re-batched and still
 * give the same tokens.
 * @module
 */
import type { ARModel } from "../model/ar_model.ts";
import { cellCount } from "../schedule/grid.ts";
import type { Schedule } from "../schedule/schedule.ts";
import { Rng } from "../util/rng.ts";
import { sample, type SampleOptions, type SampleResult } from "./sampler.ts";

/** Options of {@link sampleMany}: {@link SampleOptions} plus the batch size. */
export interface SampleManyOptions extends Omit<SampleOptions, "uniforms" | "onStep"> {
  /** Images per forward batch (default 8; guidance doubles the rows). */
  batchSize?: number;
  /** Progress: images finished, images in all. */
  onProgress?: (done: number, total: number) => void;
}

/** Result of {@link sampleMany}: all tokens plus each batch's result (for timing traces). */
export interface SampleManyResult {
  /** [images, cells] in flat grid order. */
  tokens: Int32Array;
  /** Number of images. */
  images: number;
  /** The schedule that ran. */
  schedule: Schedule;
  /** Per-batch results, for their step traces. */
  batches: SampleResult[];
  /** Wall seconds in all. */
  seconds: number;
  /** Model runtime seconds in all. */
  modelSeconds: number;
}

/**
 * Sample `classes.length` images in batches of `batchSize`, image i drawing its tokens from
 * uniforms `i * cells ... (i + 1) * cells - 1` of the stream seeded by `seed`.
 */
export async function sampleMany(
  model: ARModel,
  options: SampleManyOptions,
): Promise<SampleManyResult> {
  const images = options.classes.length;
  const cells = cellCount(options.schedule.grid);
  const uniforms = new Rng(options.seed ?? 0).uniforms(images * cells);
  const tokens = new Int32Array(images * cells);
  const batchSize = Math.max(1, options.batchSize ?? 8);
  const batches: SampleResult[] = [];
  const t0 = performance.now();
  let modelSeconds = 0;
  for (let i = 0; i < images; i += batchSize) {
    const n = Math.min(batchSize, images - i);
    const r = await sample(model, {
      ...options,
      classes: options.classes.slice(i, i + n),
      uniforms: uniforms.subarray(i * cells, (i + n) * cells),
      onWarning: i === 0 ? options.onWarning : () => {},
    });
    tokens.set(r.tokens, i * cells);
    modelSeconds += r.modelSeconds;
    batches.push(r);
    options.onProgress?.(i + n, images);
  }
  return {
    tokens,
    images,
    schedule: options.schedule,
    batches,
    seconds: (performance.now() - t0) / 1000,
    modelSeconds,
  };
}
