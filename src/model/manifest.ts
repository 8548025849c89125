/**
 * The model manifest: the JSON beside every exported `.onnx` that names the vocabulary, classes,
 * transition tokens, grid, geometry, trained schedule, sampling defaults, tokenizer and
 * provenance. Written by python/ (export and checkpoint conversion); validated here with zod.
 * @module
 */
import { z } from "../deps/zod.ts";
import { ManifestError } from "../util/errors.ts";
import { GridSchema } from "../media/grid.ts";
import { ScheduleSchema } from "../schedule/schedule.ts";

/** Zod schema of a model manifest (`format: "parlab-model/1"`). */
export const ModelManifestSchema = z.object({
  format: z.literal("parlab-model/1"),
  name: z.string().min(1),
  onnx: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits"),
  /** Size of the `.onnx` in bytes; checked when present. */
  bytes: z.number().int().positive().optional(),
  dtype: z.enum(["float32", "float16"]),
  vocabSize: z.number().int().positive(),
  numClasses: z.number().int().positive(),
  classNames: z.array(z.string()).optional(),
  transitionTokens: z.number().int().min(0),
  grid: GridSchema,
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
  return parsed.data;
}
