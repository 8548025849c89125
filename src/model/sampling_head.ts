/**
 * The optional sampling head of a step graph (python/sampling_head.py; manifest `samplingHead`):
 * its input and output names and types for the contract check, the feeds of one step's
 * {@link StepDraw} (neutral ones when a step draws nothing, since a graph input must always be
 * fed), and the drawn ids on the way out.
 *
 * Head I/O: `draw_uniforms` float32 [images, T]; `draw_settings` float32 [4] = guidance scale,
 * guidance on (1) / off (0), temperature, topP; `draw_top_k` int64 [1] (0 = off); output
 * `tokens` int64 [images, T], -1 where a slot's logits are not finite.
 * @module
 */
import { ManifestError } from "../util/errors.ts";
import type { StepDraw, StepInputs } from "./ar_model.ts";
import type { ModelManifest } from "./manifest.ts";

/** The head's graph inputs, in the order python/sampling_head.py declares them. */
export const HEAD_INPUTS = ["draw_uniforms", "draw_settings", "draw_top_k"] as const;
/** The head's graph output. */
export const HEAD_OUTPUT = "tokens";

/** What the contract check holds the head's inputs and output to: type, shape, shape in words. */
export const HEAD_VALUES: Readonly<
  Record<string, { type: string; shape: (number | null)[]; say: string }>
> = {
  draw_uniforms: { type: "float32", shape: [null, null], say: "[images, slots]" },
  draw_settings: { type: "float32", shape: [4], say: "[4]" },
  draw_top_k: { type: "int64", shape: [1], say: "[1]" },
  tokens: { type: "int64", shape: [null, null], say: "[images, slots]" },
};

/** The Tensor constructor shape both onnxruntime packages share, for the head's feeds. */
export type HeadTensorConstructor<T> = new (
  type: "float32" | "int64",
  data: Float32Array | BigInt64Array,
  dims: readonly number[],
) => T;

/**
 * The draw settings' rules, checked by hand: this runs at every step, where a zod parse was a
 * measurable part of a small model's step outside the runtime. Returns [field, problem] or null.
 */
function drawProblem(d: StepDraw): [string, string] | null {
  if (!(d.uniforms instanceof Float32Array)) return ["uniforms", "must be a Float32Array"];
  if (!Number.isFinite(d.cfgScale)) return ["cfgScale", "must be a finite number"];
  if (typeof d.guided !== "boolean") return ["guided", "must be true or false"];
  if (!(d.temperature > 0 && d.temperature < Infinity)) {
    return ["temperature", "must be a finite number above 0"];
  }
  if (!(Number.isSafeInteger(d.topK) && d.topK >= 0)) {
    return ["topK", "must be an integer >= 0"];
  }
  if (!(d.topP > 0 && d.topP <= 1)) return ["topP", "must be in (0, 1]"];
  if (d.keepLogits !== undefined && typeof d.keepLogits !== "boolean") {
    return ["keepLogits", "must be true, false or absent"];
  }
  return null;
}

/** Why a step's draw part cannot run, as `draw.<field>: problem. Fix: ...`. */
function drawError(field: string, problem: string, fix: string): ManifestError {
  return new ManifestError(`draw${field ? `.${field}` : ""}: ${problem}. Fix: ${fix}`);
}

/**
 * The images (conditional rows) a step's draw covers, after checking it against the step and
 * the model: the model must have the head, `uniforms` must be [images, T] with images rows that
 * the batch holds (twice over when guided), and the settings must be in range.
 */
export function checkDraw(
  draw: StepDraw,
  inputs: Pick<StepInputs, "batch" | "length">,
  manifest: ModelManifest,
): number {
  if (!manifest.samplingHead) {
    throw drawError(
      "",
      `model "${manifest.name}" has no sampling head (its manifest lacks samplingHead: true)`,
      "draw in JavaScript (sample's drawOnDevice: false), or re-export the model with " +
        "python -m python.export --sampling-head",
    );
  }
  const problem = drawProblem(draw);
  if (problem) {
    throw drawError(
      problem[0],
      problem[1],
      "pass the settings sample() validates (temperature > 0, integer topK >= 0, 0 < topP <= 1)",
    );
  }
  const T = inputs.length;
  const images = T > 0 ? draw.uniforms.length / T : 0;
  const rowsNeeded = draw.guided ? 2 * images : images;
  if (!Number.isInteger(images) || images < 1 || rowsNeeded > inputs.batch) {
    throw drawError(
      "uniforms",
      `has ${draw.uniforms.length} numbers for ${T} slots and ${inputs.batch} rows`,
      `give images x slots uniforms, images = the conditional rows (${
        draw.guided ? "half the batch when guided" : "at most the batch"
      })`,
    );
  }
  return images;
}

/**
 * The head's three feeds for one step: the step's draw, or, when it has none, a neutral
 * one-image draw (uniforms 0, no guidance, temperature 1, no filters) whose tokens are not
 * fetched.
 */
export function headFeeds<T>(
  Tensor: HeadTensorConstructor<T>,
  inputs: StepInputs,
  manifest: ModelManifest,
): Record<string, T> {
  const d = inputs.draw;
  const T = inputs.length;
  if (!d) {
    return {
      draw_uniforms: new Tensor("float32", new Float32Array(T), [1, T]),
      draw_settings: new Tensor("float32", Float32Array.of(1, 0, 1, 1), [4]),
      draw_top_k: new Tensor("int64", BigInt64Array.of(0n), [1]),
    };
  }
  const images = checkDraw(d, inputs, manifest);
  return {
    draw_uniforms: new Tensor("float32", d.uniforms, [images, T]),
    draw_settings: new Tensor(
      "float32",
      Float32Array.of(d.cfgScale, d.guided ? 1 : 0, d.temperature, d.topP),
      [4],
    ),
    draw_top_k: new Tensor("int64", BigInt64Array.of(BigInt(d.topK)), [1]),
  };
}

/**
 * The drawn ids of a step's `tokens` output (int64 [images, T]) as an Int32Array, after checking
 * its type, shape and range ([-1, V): -1 marks non-finite logits, which the sampler reports).
 */
export function drawnTokens(
  out: { type: string; dims: readonly number[]; data: unknown } | undefined,
  manifest: ModelManifest,
  images: number,
  length: number,
): Int32Array {
  const where = `${manifest.onnx} (manifest ${manifest.name})`;
  if (
    !out || out.type !== "int64" || out.dims.length !== 2 || out.dims[0] !== images ||
    out.dims[1] !== length
  ) {
    throw new ManifestError(
      `${where}: the sampling head returned ${
        out ? `${out.type} tokens [${out.dims.join(", ")}]` : "no tokens"
      }, expected int64 [${images}, ${length}]. Fix: re-export the model with ` +
        "python -m python.export --sampling-head",
    );
  }
  const data = out.data as BigInt64Array;
  const ids = new Int32Array(data.length);
  const V = manifest.vocabSize;
  for (let i = 0; i < data.length; i++) {
    const id = Number(data[i]);
    if (!(id >= -1 && id < V)) {
      throw new ManifestError(
        `${where}: the sampling head drew id ${id} (image ${Math.floor(i / length)}, slot ${
          i % length
        }), outside [0, ${V}). Fix: the graph and the manifest do not belong together; re-export both`,
      );
    }
    ids[i] = id;
  }
  return ids;
}

/**
 * The outputs one step fetches: the logits unless the step draws in the graph (then only with
 * `keepLogits`, or at a cache's first step, whose logits the backends scan for non-finite values
 * once), the cache outputs, and `tokens` when it draws. Why fetch lists: an output left out is
 * never copied to JavaScript (CPU) nor downloaded (WebGPU); the graph still computes the logits,
 * as the head's input.
 */
export function stepFetches(
  cacheOutputs: readonly string[],
  inputs: Pick<StepInputs, "draw">,
  firstStep: boolean,
): { names: string[]; logits: boolean } {
  const logits = !inputs.draw || inputs.draw.keepLogits === true || firstStep;
  return {
    names: [...(logits ? ["logits"] : []), ...cacheOutputs, ...(inputs.draw ? [HEAD_OUTPUT] : [])],
    logits,
  };
}

/** `{ tokens }` of a step that drew in the graph (checked by {@link drawnTokens}), else `{}`. */
export function drawResult(
  out: Readonly<Record<string, { type: string; dims: readonly number[]; data: unknown }>>,
  manifest: ModelManifest,
  inputs: Pick<StepInputs, "draw" | "length">,
): { tokens?: Int32Array } {
  if (!inputs.draw) return {};
  const images = inputs.draw.uniforms.length / inputs.length;
  return { tokens: drawnTokens(out[HEAD_OUTPUT], manifest, images, inputs.length) };
}
