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
import { NonFiniteLogitsError, TokenDrawer } from "./distribution.ts";
import { ManifestError } from "../util/errors.ts";
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
  /**
   * Draw the tokens inside the step graph, with its sampling head (manifest `samplingHead`,
   * python/sampling_head.py): the same rule in float32, so a token can differ from the
   * JavaScript draw only where its uniform lies within float32 rounding of a cumulative boundary
   * (measured counts: src/sampler/README.md). Default: whenever the model has the head and
   * `recordEntropy` is off (entropy needs the logits). false: the JavaScript draw (float64,
   * the reference); true on a model without the head, or with `recordEntropy`, is an error.
   */
  drawOnDevice?: boolean;
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

/**
 * Whether {@link sample} draws in the graph: `drawOnDevice` if given (checked against the model
 * and `recordEntropy`), else whenever the model has the sampling head and no entropy is recorded.
 */
function drawsOnDevice(
  m: ARModel["manifest"],
  options: Pick<SampleOptions, "drawOnDevice" | "recordEntropy">,
): boolean {
  const want = options.drawOnDevice;
  if (want === false) return false;
  if (want === true && !m.samplingHead) {
    throw new SampleOptionsError(
      `drawOnDevice: model "${m.name}" has no sampling head (manifest samplingHead). Fix: leave ` +
        "drawOnDevice unset, or re-export the model with python -m python.export --sampling-head",
    );
  }
  if (want === true && options.recordEntropy) {
    throw new SampleOptionsError(
      "drawOnDevice: recording entropy needs the logits in JavaScript. Fix: leave drawOnDevice " +
        "unset (recordEntropy then draws in JavaScript), or turn recordEntropy off",
    );
  }
  return m.samplingHead && !options.recordEntropy;
}

/**
 * The uniforms of one step's in-graph draw, [images, T] float32: image b's slot i < `sampled`
 * takes `uniforms[b * cells + drawn + i]`, the slots that draw nothing 0.
 */
function deviceDraw(
  uniforms: Float64Array,
  images: number,
  cells: number,
  drawn: number,
  T: number,
  sampled: number,
): { uniforms: Float32Array } {
  const u = new Float32Array(images * T);
  for (let b = 0; b < images; b++) {
    for (let i = 0; i < sampled; i++) u[b * T + i] = uniforms[b * cells + drawn + i];
  }
  return { uniforms: u };
}

/**
 * Copy the ids an in-graph draw returned ([images, T]; the first `stepCells.length` slots of
 * each image are the step's cells) into `tokens` ([images, cells]). Returns the first slot marked
 * -1 (non-finite logits, which a JavaScript draw reports as {@link NonFiniteLogitsError}).
 */
function placeDrawn(
  drawnIds: Int32Array,
  tokens: Int32Array,
  stepCells: readonly number[],
  T: number,
  cells: number,
): { image: number; slot: number } | null {
  const images = drawnIds.length / T;
  for (let b = 0; b < images; b++) {
    for (let i = 0; i < stepCells.length; i++) {
      const id = drawnIds[b * T + i];
      if (id < 0) return { image: b, slot: i };
      tokens[b * cells + stepCells[i]] = id;
    }
  }
  return null;
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
  const onDevice = drawsOnDevice(m, options);
  const rowClasses: RowClass[] = guided
    ? [...o.classes, ...o.classes.map(() => null)]
    : [...o.classes];
  const imageOfRow = rowClasses.map((_, r) => r % images);
  const V = m.vocabSize;
  const tokens = new Int32Array(images * cells);
  const drawer = new TokenDrawer(V, options.recordEntropy ?? false);
  const slotsPerStep = stepSlots(schedule);
  const totalSlots = slotsPerStep.reduce((n, slots) => n + slots.length, 0);
  const cache = model.newCache(rowClasses.length, totalSlots);
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
    const T = slots.length;
    const useGuidance = guidance[s];
    if (onDevice) {
      inputs.draw = {
        ...deviceDraw(uniforms, images, cells, drawn, T, step.cells.length),
        cfgScale: o.cfgScale,
        guided: useGuidance,
        temperature: o.temperature,
        topK: o.topK,
        topP: o.topP,
      };
    }
    const out = await model.step(cache, inputs);
    modelSeconds += out.modelSeconds;
    const entropy = options.recordEntropy
      ? new Float64Array(images * step.cells.length)
      : undefined;
    if (out.tokens) {
      const bad = placeDrawn(out.tokens, tokens, step.cells, T, cells);
      if (bad) {
        throw new ManifestError(
          `${m.onnx} (manifest ${m.name}): step ${s} (image ${bad.image}, slot ${bad.slot}): ${
            new NonFiniteLogitsError().message
          }`,
        );
      }
    }
    for (let b = 0; b < images && !out.tokens; b++) {
      for (let i = 0; i < step.cells.length; i++) {
        const cond = out.logits.subarray((b * T + i) * V, (b * T + i + 1) * V);
        const uncond = useGuidance
          ? out.logits.subarray(((images + b) * T + i) * V, ((images + b) * T + i + 1) * V)
          : null;
        const u = uniforms[b * cells + drawn + i];
        try {
          tokens[b * cells + step.cells[i]] = drawer.draw(cond, uncond, o.cfgScale, o, u);
        } catch (err) {
          if (!(err instanceof NonFiniteLogitsError)) throw err;
          throw new ManifestError(
            `${m.onnx} (manifest ${m.name}): step ${s} (image ${b}, slot ${i}): ${err.message}`,
          );
        }
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
