/**
 * The effective sampling settings: what a run actually uses, i.e. the caller's options where
 * given and the model manifest's defaults elsewhere, validated once. The sampler, `deno task
 * sample` (its resume key and `run.json`) and the experiments all take them from here.
 * @module
 */
import { z } from "../deps/zod.ts";
import type { ModelManifest } from "../model/manifest.ts";

/** Sampling settings, every one set. */
export interface SamplingSettings {
  /** Guidance scale s: logits = u + s * (c - u). 1 turns guidance off. */
  cfgScale: number;
  /** Steps with guidance; later steps use the conditional logits alone. null: every step. */
  cfgInterval: number | null;
  /** Softmax temperature. */
  temperature: number;
  /** Top-k filter, 0 = off. */
  topK: number;
  /** Top-p filter, 1 = off. */
  topP: number;
  /** Seed of the uniform numbers. */
  seed: number;
  /**
   * How `cfgInterval` is read: `steps` (parlab's: guide steps s < cfgInterval) or `official`
   * (PAR's and LlamaGen's `generate`: see {@link guidedSteps}).
   */
  cfgIntervalRule: "steps" | "official";
}

/**
 * The ranges that compute: beyond them the guided logits or logits / temperature overflow
 * float64 and every draw lands on the last token. Guidance below 1 is refused as the official
 * PAR/LlamaGen sampler does not guide there (it guides only when the scale is above 1).
 */
export const SETTING_LIMITS = {
  cfgScale: { min: 1, max: 1000 },
  temperature: { min: 1e-4, max: 1e4 },
} as const;

/**
 * Sampling settings a caller may set, every one optional: an unset one takes the model
 * manifest's default ({@link effectiveSettings}). Shared by `sample()`, ZipAR and SJD.
 */
export interface SamplingOverrides {
  /** Guidance scale s: logits = u + s * (c - u). 1 turns guidance off (no unconditional rows). */
  cfgScale?: number;
  /**
   * Steps with guidance, read by `cfgIntervalRule` over the method's steps (ZipAR: the calls of
   * its implied schedule; SJD: the raster steps). null: every step.
   */
  cfgInterval?: number | null;
  /** How cfgInterval is read: `steps` (default) or `official` (see {@link guidedSteps}). */
  cfgIntervalRule?: "steps" | "official";
  /** Softmax temperature. */
  temperature?: number;
  /** Top-k filter, 0 = off. */
  topK?: number;
  /** Top-p filter, 1 = off. */
  topP?: number;
  /** Seed of the uniform numbers (default 0). */
  seed?: number;
}

const SettingsSchema = z.object({
  cfgScale: z.number().min(SETTING_LIMITS.cfgScale.min, {
    message: "guidance below 1 is not guidance (the official sampler guides only above 1). " +
      "Fix: use 1 to turn guidance off, or a scale above 1",
  }).max(SETTING_LIMITS.cfgScale.max, {
    message: `must be at most ${SETTING_LIMITS.cfgScale.max} (larger scales overflow the ` +
      "guided logits)",
  }),
  cfgInterval: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable(),
  temperature: z.number().min(SETTING_LIMITS.temperature.min, {
    message: `must be at least ${SETTING_LIMITS.temperature.min} (smaller temperatures ` +
      "overflow logits / T; use top-k 1 for greedy decoding)",
  }).max(SETTING_LIMITS.temperature.max, {
    message: `must be at most ${SETTING_LIMITS.temperature.max}`,
  }),
  topK: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  topP: z.number().gt(0).max(1),
  seed: z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
  cfgIntervalRule: z.enum(["steps", "official"]),
});

/** A sampling option that cannot be used, naming the option and the fix. */
export class SampleOptionsError extends Error {
  /**
   * Sampling options that cannot work together or are out of range.
   * @param message full message naming the option and the fix
   */
  constructor(message: string) {
    super(message);
    this.name = "SampleOptionsError";
  }
}

/**
 * The settings a run uses: each option that is set (not undefined), else the manifest's default
 * (`cfgInterval: null` is a setting: guide every step). Out-of-range values are a
 * {@link SampleOptionsError} naming the option.
 * @example
 * effectiveSettings(model.manifest, { cfgScale: 2 }); // { cfgScale: 2, temperature: 1, ... }
 */
export function effectiveSettings(
  manifest: Pick<ModelManifest, "sampling">,
  options: Partial<SamplingSettings> = {},
): SamplingSettings {
  const d = manifest.sampling;
  const parsed = SettingsSchema.safeParse({
    cfgScale: options.cfgScale ?? d.cfgScale,
    cfgInterval: options.cfgInterval === undefined ? d.cfgInterval ?? null : options.cfgInterval,
    temperature: options.temperature ?? d.temperature,
    topK: options.topK ?? d.topK,
    topP: options.topP ?? d.topP,
    seed: options.seed ?? 0,
    cfgIntervalRule: options.cfgIntervalRule ??
      (d as { cfgIntervalRule?: "steps" | "official" }).cfgIntervalRule ?? "steps",
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join(".");
    const got = (options as Record<string, unknown>)[field] ??
      (d as Record<string, unknown>)[field];
    throw new SampleOptionsError(`${field}: ${JSON.stringify(got)}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Per step of a schedule: is guidance applied? None when the scale is 1. Under the `steps` rule,
 * steps s < cfgInterval (all when null). Under the `official` rule (PAR's / LlamaGen's
 * `generate`), the steps form three phases: the prefill (step 0), the sequential phase (the
 * one-cell steps after it) and the parallel phase (from the first later step with more than one
 * cell); i counts the cells sampled earlier in the step's own phase. The prefill is always
 * guided; a later step is not when cfgInterval is set and i > cfgInterval. (The official flag
 * counts tokens, not steps, and is reset when the parallel phase begins: on PAR-4x, cfgInterval 1
 * guides steps 0, 1, 2 and 4.) Checked against python/sampler.py's reimplementation.
 * @example
 * guidedSteps(par4.steps, { cfgScale: 1.5, cfgInterval: 1, cfgIntervalRule: "official" });
 */
export function guidedSteps(
  steps: readonly { cells: readonly number[] }[],
  settings: Pick<SamplingSettings, "cfgScale" | "cfgInterval" | "cfgIntervalRule">,
): boolean[] {
  if (!(settings.cfgScale > 1)) return steps.map(() => false);
  const interval = settings.cfgInterval;
  if (settings.cfgIntervalRule === "steps") {
    return steps.map((_, s) => interval === null || s < interval);
  }
  let i = 0;
  let parallel = false;
  return steps.map((step, s) => {
    if (s === 0) return true; // the prefill
    if (!parallel && step.cells.length > 1) {
      parallel = true; // a new phase: the official flag starts on again
      i = 0;
    }
    const on = !(interval !== null && i > interval);
    i += step.cells.length;
    return on;
  });
}
