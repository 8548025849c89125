/**
 * The model manifest: the JSON beside every exported `.onnx` that names the vocabulary, classes,
 * transition tokens, grid, geometry, trained schedule, sampling defaults, tokenizer and
 * provenance. Written by python/ (export and checkpoint conversion); validated here with zod.
 *
 * A video model has `grid.frames > 1` and records its 3D rotary table as `rope`
 * (`{ kind: "3d", split: [time, row, col] }`); its schedule must be on the same frames x height x
 * width grid, so a video model with an image schedule (or the reverse) fails here, at load.
 * @module
 */
import { z } from "../deps/zod.ts";
import { ManifestError } from "../util/errors.ts";
import { GridSchema } from "../media/grid.ts";
import { describeGrid, ScheduleSchema } from "../schedule/schedule.ts";

/**
 * Zod schema of the positional table's record: `2d` (LlamaGen/PAR: row and column pairs) or
 * `3d` (video: time, row and column pairs); `split` counts the rotary pairs (channel pairs of a
 * head) each coordinate rotates, and sums to headDim / 2.
 */
export const RopeSchema = z.object({
  kind: z.enum(["2d", "3d"]),
  split: z.array(z.number().int().positive()).min(2).max(3),
}).passthrough();

/** A validated `rope` record of a model manifest. */
export type Rope = z.infer<typeof RopeSchema>;

/** Zod schema of a model manifest (`format: "parlab-model/1"`). */
export const ModelManifestSchema = z.object({
  format: z.literal("parlab-model/1"),
  name: z.string().min(1),
  onnx: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits"),
  /** Size of the `.onnx` in bytes; checked when present. */
  bytes: z.number().int().positive().optional(),
  /** How the weights are stored in the file (fp16-stored fp32 graphs cast them up). */
  dtype: z.enum(["float32", "float16"]),
  /** How the graph was written: torch.onnx.export's trace or python/fused.py's fused operators. */
  graph: z.enum(["traced", "fused"]).default("traced"),
  /**
   * What a step returns of the cache: `present` (the step contract's grown cache,
   * `present.<i>.key|value`) or `new` (only this step's keys and values, `new.<i>.key|value`
   * [batch, kvHeads, T, headDim]: python/fused.py's split-attention CPU graphs; the backend keeps
   * the cache, src/model/kv_arena.ts).
   */
  cache: z.enum(["present", "new"]).default("present"),
  /**
   * The graph's arithmetic and KV-cache dtype: float16 graphs take and return fp16 past/present
   * tensors (logits stay float32) and are meant for the GPU backends.
   */
  compute: z.enum(["float32", "float16"]).default("float32"),
  /** Block-wise integer weights (`MatMulNBits`) of a quantized CPU graph; absent: none. */
  quantization: z.object({
    bits: z.union([z.literal(4), z.literal(8)]),
    blockSize: z.number().int().positive(),
    /** onnxruntime's MatMulNBits accuracy level (4: int8 activations). */
    accuracyLevel: z.number().int().min(0).max(4).optional(),
  }).nullable().optional(),
  /**
   * The graph also draws the tokens (python/sampling_head.py): inputs `draw_uniforms` float32
   * [images, T], `draw_settings` float32 [4] (guidance scale, guidance on, temperature, topP) and
   * `draw_top_k` int64 [1]; output `tokens` int64 [images, T]. False (absent): logits only.
   */
  samplingHead: z.boolean().default(false),
  vocabSize: z.number().int().positive(),
  numClasses: z.number().int().positive(),
  classNames: z.array(z.string()).optional(),
  transitionTokens: z.number().int().min(0),
  grid: GridSchema,
  /** The positional table (absent in manifests written before video models: 2D). */
  rope: RopeSchema.optional(),
  layers: z.number().int().positive(),
  heads: z.number().int().positive(),
  kvHeads: z.number().int().positive(),
  headDim: z.number().int().positive(),
  dim: z.number().int().positive(),
  schedule: ScheduleSchema.nullable().optional(),
  sampling: z.object({
    cfgScale: z.number().min(0).default(1),
    cfgInterval: z.number().int().min(0).nullable().default(null),
    temperature: z.number().positive().default(1),
    topK: z.number().int().min(0).default(0),
    topP: z.number().gt(0).max(1).default(1),
    /** How cfgInterval is read: parlab's steps, or the official sampler's token counts. */
    cfgIntervalRule: z.enum(["steps", "official"]).default("steps"),
  }).default({
    cfgScale: 1,
    cfgInterval: null,
    temperature: 1,
    topK: 0,
    topP: 1,
    cfgIntervalRule: "steps",
  }),
  tokenizer: z.object({
    kind: z.string(),
    /** The patch k-means codebook, relative to the manifest. */
    codebook: z.string().min(1).optional(),
    /** The codebook's sha256; checked when present. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits").optional(),
    /** The codebook's size in bytes; checked when present. */
    bytes: z.number().int().positive().optional(),
  }).passthrough().nullable().optional(),
  provenance: z.record(z.string(), z.unknown()).optional(),
}).passthrough();

/** A validated model manifest. */
export type ModelManifest = z.infer<typeof ModelManifestSchema>;

/** Id of class `c` in the model's single id space (image tokens come first). */
export function classTokenId(m: ModelManifest, c: number): number {
  return m.vocabSize + c;
}

/** Id of the null (unconditional) class used for classifier-free guidance. */
export function nullClassId(m: ModelManifest): number {
  return m.vocabSize + m.numClasses;
}

/** Id of transition token `k` (1-based). */
export function transitionTokenId(m: ModelManifest, k: number): number {
  return m.vocabSize + m.numClasses + k;
}

/** True when the manifest is a video model (more than one frame). */
export function isVideoModel(m: Pick<ModelManifest, "grid">): boolean {
  return m.grid.frames > 1;
}

const REEXPORT =
  "Fix: re-export the model with python/ (python -m python.export), which writes grid, rope " +
  "and schedule together";

/**
 * The checks zod cannot state: the positional table fits the grid and the head (3D for video,
 * 2D for pictures; its pairs sum to headDim / 2), and the trained schedule is on the model's grid.
 * Returns the message of the first problem, or null.
 */
function geometryProblem(m: ModelManifest, where: string): string | null {
  const frames = m.grid.frames;
  // Manifests written before `rope` existed have none: their table is not checked here (a
  // hand-made video manifest over an image graph still runs, since the graph sees only ids).
  if (m.rope) {
    const kind = m.rope.kind;
    if (frames > 1 && kind !== "3d") {
      return `${where}: field "rope.kind": the model's grid has ${frames} frames ` +
        `(${describeGrid(m.grid)}) but its table is "2d"; a video model is exported with the 3D ` +
        `table ({"kind": "3d", "split": [time, row, col]}). ${REEXPORT}`;
    }
    if (frames === 1 && kind === "3d") {
      return `${where}: field "rope.kind": "3d" is the video table but the model's grid has one ` +
        `frame (${describeGrid(m.grid)}). ${REEXPORT}`;
    }
    const want = kind === "3d" ? 3 : 2;
    const split = m.rope.split;
    const pairs = split.reduce((a, b) => a + b, 0);
    if (split.length !== want || pairs * 2 !== m.headDim) {
      const names = kind === "3d" ? "time, row, col" : "row, col";
      return `${where}: field "rope.split": [${split.join(", ")}] must be ${want} positive ` +
        `counts (${names}) summing to headDim / 2 = ${m.headDim / 2}. ${REEXPORT}`;
    }
  }
  const s = m.schedule?.grid;
  if (s && (s.frames !== frames || s.height !== m.grid.height || s.width !== m.grid.width)) {
    const what = (f: number) => f > 1 ? "a video" : "an image";
    const g = m.grid;
    const ts = `makeGrid(${g.height}, ${g.width}${frames > 1 ? `, ${frames}` : ""})`;
    return `${where}: field "schedule.grid": the trained schedule "${m.schedule!.name}" is ` +
      `${what(s.frames)} schedule on ${describeGrid(s)} but the model is ${what(frames)} model ` +
      `on ${describeGrid(g)}. Fix: re-export with the schedule built on ${ts} ` +
      `(python: make_grid(${g.height}, ${g.width}, ${frames}))`;
  }
  return null;
}

/**
 * Validate a parsed manifest; the error names the field and the fix.
 * @param where file or URL the manifest came from, for the message
 */
export function parseModelManifest(value: unknown, where: string): ModelManifest {
  const parsed = ModelManifestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.map(String).join(".") || "(root)";
    throw new ManifestError(
      `${where}: field "${field}": ${issue.message}. Fix: re-export the model with python/ ` +
        `(python -m python.export) or correct the field by hand`,
    );
  }
  if (parsed.data.kvHeads > parsed.data.heads || parsed.data.heads % parsed.data.kvHeads !== 0) {
    throw new ManifestError(
      `${where}: field "kvHeads": ${parsed.data.kvHeads} must divide heads ${parsed.data.heads}. Fix: correct the manifest`,
    );
  }
  const problem = geometryProblem(parsed.data, where);
  if (problem) throw new ManifestError(problem);
  return parsed.data;
}
