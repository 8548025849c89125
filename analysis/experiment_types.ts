/**
 * The records of the speed/quality experiments, shared by the runner (`experiments.ts`), its
 * scoring (`experiment_quality.ts`) and timing (`experiment_timing.ts`): a configuration, the
 * settings of a run, and what one configuration measures. Types only, so no module imports back.
 * @module
 */

/** One experiment configuration: a schedule run on the model trained for a configuration. */
export interface ExperimentSpec {
  /** Identifier (folder name, table key). */
  id: string;
  /** Model configuration (`emoji-<model>` or `tiny-<model>`). */
  model: string;
  /** Schedule name for `scheduleByName`. */
  schedule: string;
  /** Row label in tables and figures. */
  label: string;
  /** Short label for crowded plots. */
  short: string;
  /** True when the schedule is not the one the model was trained for. */
  cross?: boolean;
}

/** Settings of a run (`DEFAULT_SETTINGS` and `QUICK_SETTINGS` in `experiments.ts`). */
export interface ExperimentSettings {
  /** Pictures sampled per class (classes in order, `perClass` each). */
  perClass: number;
  /** Seed of the sampling uniforms (image i always gets the same numbers). */
  seed: number;
  /** Images per sampling batch (throughput timing). */
  batchSize: number;
  /** Pictures sampled one at a time per timing round for the batch-1 latency; 0 skips it. */
  latencyImages: number;
  /**
   * Timing rounds: latency = the lowest per-round median of `latencyImages` single pictures,
   * throughput = the best round's batch. Timing only, so not part of the fingerprint.
   */
  timingRounds: number;
  /** Run one untimed warm-up round first (engine and runtime warm-up; off in quick mode). */
  timingWarmup: boolean;
  /** Val grids teacher-forced for the NLL (`null`: the whole val split). */
  nllGrids: number | null;
  /** Real train grids per class in the metrics reference (class-balanced, seeded). */
  referencePerClass: number;
  /** KID subsets. */
  kidSubsets: number;
  /** Bootstrap resamples for the Fréchet distance's std (0 skips it). */
  bootstrap: number;
  /** Samples per class shown in each configuration's mosaic. */
  mosaicPerClass: number;
  /** Guidance scale; `null` takes each model manifest's default. */
  cfgScale: number | null;
}

/** Quality numbers of one sample set (a subset of `SampleMetrics`, rounded). */
export interface QualityNumbers {
  /** Number of grids scored. */
  n: number;
  /** Fréchet distance of emoji-classifier features against the reference (lower is better). */
  frechet: number;
  /** Bootstrap std of the Fréchet distance (generated side resampled); 0 when not computed. */
  frechetStd: number;
  /** KID mean and std over subsets. */
  kid: { mean: number; std: number };
  /** Fraction classified as their conditioning class. */
  classAccuracy: number;
  /** Mean per-class accuracy. */
  classBalancedAccuracy: number;
  /** Neighbour-pair Jensen-Shannon divergence (bits) against the reference. */
  pairJS: { horizontal: number; vertical: number };
}

/** Everything measured for one configuration (`<id>/result.json`). */
export interface ExperimentResult {
  /** The configuration. */
  spec: ExperimentSpec;
  /** Model name and file that ran. */
  model: { name: string; file: string; sha256: string; parameters: string };
  /** Steps of the schedule. */
  steps: number;
  /** Pictures sampled. */
  images: number;
  /** Backend string reported by the model. */
  backend: string;
  /** Sampling settings that ran. */
  sampling: { cfgScale: number; cfgInterval: number | null; temperature: number; seed: number };
  /** Wall seconds per image of the best timed batch of `batchSize` images (throughput). */
  secondsPerImage: number | null;
  /** Images per batch of the throughput run. */
  batchSize: number;
  /** Median wall seconds of one image sampled alone (latency, the paper's time); null: skipped. */
  latencySeconds: number | null;
  /** Share of the timed batch's wall time spent inside the model runtime. */
  modelShare: number;
  /** When the timing was taken, the load average before it, and its settings key. */
  timing?: { at: string; loadAverage: number; key: string };
  /** Quality of the samples. */
  quality: QualityNumbers;
  /** Teacher-forced val NLL under the schedule (nats per token). */
  valNll: { grids: number; nats: number };
  /** Mosaic file, relative to the configuration's folder. */
  mosaic: string;
  /** Settings fingerprint (a rerun with another one redoes this configuration). */
  fingerprint: string;
}
