/**
 * The records of the speed/quality experiments, shared by the runner (`experiments.ts`), its
 * scoring (`experiment_quality.ts`) and timing (`experiment_timing.ts`): a configuration, the
 * settings of a run, and what one configuration measures. Types only, so no module imports back.
 * @module
 */

/**
 * A training-free decoder run on an unchanged raster-trained model instead of `sample()` on a
 * schedule: ZipAR's next-set prediction (`sampleZipAR`, fixed window or parlab's adaptive
 * variant) or Speculative Jacobi Decoding (`sampleJacobi`). See src/sampler/README.md.
 */
export type DecoderSpec =
  | {
    kind: "zipar";
    /** Local window s: row r+1 starts once row r holds s tokens (adaptive: the largest). */
    window: number;
    /** The adaptive window (rows start after minWindow + 1 .. window tokens of the row above). */
    adaptive?: { minWindow: number };
  }
  | {
    kind: "sjd";
    /** Draft tokens fed per call after the last committed cell. */
    draftLength: number;
    /** New draft positions: random tokens (SJD, the default) or the left neighbour's token. */
    draftInit?: "random" | "left";
  };

/** One experiment configuration: a schedule run on the model trained for a configuration. */
export interface ExperimentSpec {
  /** Identifier (folder name, table key). */
  id: string;
  /** Model configuration (`emoji-<model>` or `tiny-<model>`). */
  model: string;
  /**
   * Schedule name for `scheduleByName`: what `sample()` runs, and the order of the val NLL. With
   * a `decoder`, the model's trained order (`raster`), used for the NLL only.
   */
  schedule: string;
  /** Row label in tables and figures. */
  label: string;
  /** Short label for crowded plots. */
  short: string;
  /** True when the schedule is not the one the model was trained for. */
  cross?: boolean;
  /** Draw the tokens with a training-free decoder on the (raster) model instead of `schedule`. */
  decoder?: DecoderSpec;
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

/** Model calls per image, measured from the sampler traces. */
export interface ModelCalls {
  /**
   * Mean over the sampled images of the calls of the batch that drew each (a batch shares its
   * calls; batches of `batchSize`).
   */
  sampling: number;
  /** Mean calls of the timing's single pictures (batch 1); null when latency was skipped. */
  batch1: number | null;
}

/** One SJD iteration index, averaged over the sampling run's batches that reached it. */
export interface IterationPoint {
  /** Iteration (model call) index, 0-based. */
  iteration: number;
  /** Batches that made this many calls or more. */
  batches: number;
  /** Mean cells the batch committed in this call. */
  committed: number;
  /** Mean over images of drafts accepted + 1: what the image alone would have committed. */
  perImage: number;
}

/** What a training-free decoder's traces say, summed over the sampling run (`<id>/result.json`). */
export interface DecoderTrace {
  /** Which decoder. */
  kind: "zipar" | "sjd";
  /** Images summarised. */
  images: number;
  /**
   * SJD: per cell, the share of images whose token there was an accepted draft
   * (`jacobi.acceptedDraft` averaged; at batch > 1 limited by the batch's shortest prefix).
   */
  acceptedDraftMap?: number[];
  /**
   * SJD: per cell, drafts accepted / drafts tested, per image before the batch minimum
   * (from `jacobi.iterations`); null where no draft was tested.
   */
  acceptanceRateMap?: (number | null)[];
  /** SJD: cells committed per call (batch) and per image, against the iteration index. */
  iterations?: IterationPoint[];
  /** SJD: mean cells committed per model call over the run. */
  cellsPerCall?: number;
  /** ZipAR: mean window a row started with (rows 1..R-1, all images; a fixed window: it). */
  meanRowWindow?: number;
}

/**
 * What sampling and timing record for a configuration, image rows and video rows alike (for a
 * video row, "image" reads "clip").
 */
export interface TimedRecord {
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
}

/** Everything measured for one configuration (`<id>/result.json`). */
export interface ExperimentResult extends TimedRecord {
  /** The configuration. */
  spec: ExperimentSpec;
  /** Model name and file that ran. */
  model: { name: string; file: string; sha256: string; parameters: string };
  /**
   * Steps of the schedule (ZipAR with a fixed window: of its implied schedule); null for SJD and
   * adaptive ZipAR, whose step count depends on the run.
   */
  steps: number | null;
  /** Model calls per image (absent in results written before they were recorded). */
  modelCalls?: ModelCalls;
  /** Training-free decoders: acceptance and row-window statistics of the sampling run. */
  decoderTrace?: DecoderTrace;
  /** Pictures sampled. */
  images: number;
  /** Quality of the samples. */
  quality: QualityNumbers;
  /** Teacher-forced val NLL under the schedule (nats per token). */
  valNll: { grids: number; nats: number };
  /** Mosaic file, relative to the configuration's folder. */
  mosaic: string;
  /** Settings fingerprint (a rerun with another one redoes this configuration). */
  fingerprint: string;
}
