/**
 * The sampler: runs any schedule on any {@link ARModel}, with classifier-free guidance,
 * temperature, top-k and top-p, drawing every token from an explicit uniform number so a run
 * can be replayed exactly. Returns the token grids and a per-step trace.
 * @module
 */
import type { ARModel } from "../model/ar_model.ts";
import { cellCount } from "../media/grid.ts";
import { type Schedule, stepSlots } from "../schedule/schedule.ts";
import { Rng } from "../util/rng.ts";
import { TokenDrawer } from "./distribution.ts";
import { buildStepInputs, type RowClass } from "./layout.ts";
import { checkSchedule, checkUniforms } from "./checks.ts";
import { checkPairing } from "./pairing.ts";
import {
  effectiveSettings,
  guidedSteps,
  SampleOptionsError,
  type SamplingOverrides,
} from "./settings.ts";

/** Options of {@link sample}. Unset sampling settings take the model manifest's defaults. */
export interface SampleOptions extends SamplingOverrides {
  /** The schedule to run (its grid must be the model's). */
  schedule: Schedule;
  /** One class index per image. */
  classes: readonly number[];
  /** Seed of the uniform numbers (default 0). Ignored when `uniforms` is given. */
  seed?: number;
  /**
   * Explicit uniforms, [images, cells] in schedule order: image b's k-th sampled token (k in
   * the flattened order of `schedule`) uses `uniforms[b * cells + k]`.
   */
  uniforms?: Float64Array;
  /** Record the entropy (bits) of every sampled distribution in the trace. */
  recordEntropy?: boolean;
  /** Called after every step (progress bars). */
  onStep?: (done: number, total: number) => void;
  /** Receives the warning when the schedule is not the one the model was trained for. */
  onWarning?: (message: string) => void;
}

/** Per-step record of a sampling run. */
export interface StepTrace {
  /** Cells sampled in this step. */
  cells: number[];
  /** Wall seconds of the whole step (inputs, model, sampling). */
  wallSeconds: number;
  /** Seconds inside the model runtime. */
  modelSeconds: number;
  /** Entropy (bits) of each sampled distribution, [images, cells of the step]; when recorded. */
  entropyBits?: Float64Array;
}

/** What {@link sample} returns. */
export interface SampleResult {
  /** Sampled tokens, [images, cells] with cells in flat grid order (row-major). */
  tokens: Int32Array;
  /** Number of images. */
  images: number;
  /** The schedule that ran. */
  schedule: Schedule;
  /** One entry per step. */
  trace: StepTrace[];
  /** Wall seconds of the whole run. */
  seconds: number;
  /** Seconds inside the model runtime, summed over steps. */
  modelSeconds: number;
  /** Where it ran. */
  backend: string;
}

/** Class indices: a non-empty list of non-negative integers. */
function checkClasses(classes: readonly number[]): number[] {
  if (classes.length === 0) {
    throw new SampleOptionsError("classes: give at least one class index (one image per entry)");
  }
  const bad = classes.find((c) => !Number.isInteger(c) || c < 0);
  if (bad !== undefined) {
    throw new SampleOptionsError(`classes: ${bad} is not a class index (a non-negative integer)`);
  }
  return [...classes];
}

/**
 * Sample one token grid per entry of `classes`.
 * @example
 * const model = await loadOnnxModel("fixtures/models/tiny-par4.json");
 * const out = await sample(model, { schedule: par(makeGrid(24, 24), { m: 2 }), classes: [0, 3], cfgScale: 2 });
 * out.tokens; // Int32Array of 2 * 576 ids
 */
export async function sample(model: ARModel, options: SampleOptions): Promise<SampleResult> {
  const m = model.manifest;
  const o = { ...effectiveSettings(m, options), classes: checkClasses(options.classes) };
  const bad = o.classes.find((c) => c >= m.numClasses);
  if (bad !== undefined) {
    throw new SampleOptionsError(
      `classes: class ${bad} is out of range; model "${m.name}" has ${m.numClasses} classes (0..${
        m.numClasses - 1
      })`,
    );
  }
  const { schedule } = options;
  checkSchedule(schedule);
  const warning = checkPairing(m, schedule);
  if (warning) (options.onWarning ?? console.warn)(warning);

  const images = o.classes.length;
  const cells = cellCount(schedule.grid);
  let uniforms = options.uniforms;
  if (uniforms) {
    checkUniforms(uniforms);
    if (uniforms.length !== images * cells) {
      throw new SampleOptionsError(
        `uniforms: has ${uniforms.length} numbers, needs images x cells = ${images * cells}`,
      );
    }
  } else {
    uniforms = new Rng(o.seed).uniforms(images * cells);
  }
  // The official sampler feeds unconditional rows only when guiding (scale above 1).
  const guided = o.cfgScale > 1;
  const guidance = guidedSteps(schedule.steps, o);
  const rowClasses: RowClass[] = guided
    ? [...o.classes, ...o.classes.map(() => null)]
    : [...o.classes];
  const imageOfRow = rowClasses.map((_, r) => r % images);
  const V = m.vocabSize;
  const tokens = new Int32Array(images * cells);
  const drawer = new TokenDrawer(V, options.recordEntropy ?? false);
  const cache = model.newCache(rowClasses.length);
  const slotsPerStep = stepSlots(schedule);
  const trace: StepTrace[] = [];
  const start = performance.now();
  let modelSeconds = 0;
  let drawn = 0; // index into the flattened order
  for (let s = 0; s < schedule.steps.length; s++) {
    const t0 = performance.now();
    const step = schedule.steps[s];
    const slots = slotsPerStep[s];
    const inputs = buildStepInputs(
      m,
      slots,
      step.attention,
      rowClasses,
      tokens,
      cells,
      imageOfRow,
      cache.length,
    );
    const out = await model.step(cache, inputs);
    modelSeconds += out.modelSeconds;
    const T = slots.length;
    const useGuidance = guidance[s];
    const entropy = options.recordEntropy
      ? new Float64Array(images * step.cells.length)
      : undefined;
    for (let b = 0; b < images; b++) {
      for (let i = 0; i < step.cells.length; i++) {
        const cond = out.logits.subarray((b * T + i) * V, (b * T + i + 1) * V);
        const uncond = useGuidance
          ? out.logits.subarray(((images + b) * T + i) * V, ((images + b) * T + i + 1) * V)
          : null;
        const u = uniforms[b * cells + drawn + i];
        tokens[b * cells + step.cells[i]] = drawer.draw(cond, uncond, o.cfgScale, o, u);
        if (entropy) entropy[b * step.cells.length + i] = drawer.entropyBits;
      }
    }
    drawn += step.cells.length;
    trace.push({
      cells: step.cells,
      wallSeconds: (performance.now() - t0) / 1000,
      modelSeconds: out.modelSeconds,
      ...(entropy ? { entropyBits: entropy } : {}),
    });
    options.onStep?.(s + 1, schedule.steps.length);
  }
  return {
    tokens,
    images,
    schedule,
    trace,
    seconds: (performance.now() - start) / 1000,
    modelSeconds,
    backend: model.backend,
  };
}
