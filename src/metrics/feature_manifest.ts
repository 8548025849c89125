/**
 * The feature-model manifest: a small JSON beside a user's ONNX image model that says how to feed
 * it pictures and which outputs hold features (and, optionally, class logits).
 *
 * ```json
 * {"format": "parlab-image-features/1", "name": "emoji-cnn", "onnx": "emoji-cnn.onnx",
 *  "sha256": "<optional, checked when present>", "bytes": <optional, checked when present>,
 *  "input": {"name": "pictures", "layout": "NCHW", "height": 48, "width": 48,
 *            "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]},
 *  "outputs": {"features": "features", "logits": "logits", "spatial": null},
 *  "featureDim": 128, "classNames": ["..."]}
 * ```
 * The model input is `(pixel / 255 - mean[c]) / std[c]` per RGB channel, float32, batch first.
 * For an ImageNet Inception/ResNet style model use ImageNet's mean and std; for a model that takes
 * raw 0..1 values use mean 0 and std 1; for -1..1, mean 0.5 and std 0.5.
 *
 * A clip model (`input.frames` F > 1, e.g. the committed clip classifier) takes whole clips: the
 * input is [B, F, 3, H, W] for layout NCHW (NCHW per frame) or [B, F, H, W, 3] for NHWC, and one
 * feature vector per clip comes out.
 * @module
 */
import { z } from "../deps/zod.ts";
import { ManifestError } from "../util/errors.ts";

const Rgb = z.tuple([z.number(), z.number(), z.number()]);

/** Schema of a feature-model manifest. */
export const FeatureManifestSchema = z.object({
  format: z.literal("parlab-image-features/1"),
  name: z.string().min(1),
  onnx: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits").optional(),
  /** Size of the `.onnx` in bytes; checked when present. */
  bytes: z.number().int().positive().optional(),
  input: z.object({
    name: z.string().min(1),
    layout: z.enum(["NCHW", "NHWC"]),
    height: z.number().int().min(1),
    width: z.number().int().min(1),
    mean: Rgb,
    std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
    /** Resampling kernel when pictures have another size (sharp's names). */
    resize: z.enum(["nearest", "linear", "cubic", "lanczos3"]).default("lanczos3"),
    /** Frames per item: 1 (default) for a picture model, F for a clip model (5-d input). */
    frames: z.number().int().min(1).default(1),
    /** Fixed batch size of the graph; null or absent when the batch axis is dynamic. */
    batchSize: z.number().int().min(1).nullable().default(null),
  }),
  outputs: z.object({
    features: z.string().min(1),
    logits: z.string().min(1).nullable().default(null),
    /**
     * Optional second feature output, [batch, any width] (the FID Inception's `spatial`: ADM's
     * sFID features); its width is read from the graph's output.
     */
    spatial: z.string().min(1).nullable().default(null),
  }),
  featureDim: z.number().int().min(1),
  classNames: z.array(z.string()).min(1).nullable().default(null),
  metrics: z.record(z.string(), z.unknown()).optional(),
  provenance: z.record(z.string(), z.unknown()).optional(),
  golden: z.record(z.string(), z.unknown()).optional(),
}).refine((m) => m.outputs.logits === null || m.classNames !== null, {
  message: "a logits output needs classNames (one name per logit)",
  path: ["classNames"],
});

/** A validated feature-model manifest. */
export type FeatureManifest = z.infer<typeof FeatureManifestSchema>;

/**
 * Validate a parsed manifest; errors name the field and the fix. `where` names the file.
 * @example
 * const m = parseFeatureManifest(JSON.parse(text), "emoji-cnn.json");
 */
export function parseFeatureManifest(value: unknown, where: string): FeatureManifest {
  const parsed = FeatureManifestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join(".") || "(top level)";
    throw new ManifestError(
      `${where}: field "${field}": ${issue.message}. Fix: correct the feature manifest ` +
        `(format parlab-image-features/1; see src/metrics/feature_manifest.ts)`,
    );
  }
  return parsed.data;
}
