/**
 * How an experiment configuration draws its tokens: `sample()` on its schedule, or its
 * training-free decoder (ZipAR's next-set prediction, Speculative Jacobi Decoding) on the
 * unchanged raster model. The sampling stage (`experiments.ts`) and the timing stage
 * (`experiment_timing.ts`) both draw through {@link drawTokens}, so what is timed is what is
 * scored; each call also returns what its trace says (model calls, SJD acceptance, ZipAR row
 * windows) as a {@link BatchTrace} that survives an interrupted run beside the saved batch.
 *
 * Randomness: a call's images are images `imageOffset ..` of the whole run. `sample()` and
 * ZipAR with a fixed window draw image i from uniforms `i * cells ..` of the stream seeded by
 * `seed` (as `sampleMany`), so any batching gives the same tokens; adaptive ZipAR and SJD draw
 * image i from its own seeded stream (`imageOffset`). SJD's batch commits the prefix every image
 * accepted, so its tokens depend on which images share a batch: the experiments always batch
 * from image 0 in steps of `batchSize` (part of the fingerprint), and a resumed run redraws only
 * whole batches, so it gets the same tokens as an uninterrupted one.
 * @module
 */
import {
  type ARModel,
  cellCount,
  rasterRows,
  Rng,
  sample,
  sampleJacobi,
  type SampleResult,
  sampleZipAR,
  type SamplingSettings,
  type Schedule,
  zipar,
} from "./deps.ts";
import type {
  DecoderSpec,
  DecoderTrace,
  ExperimentSpec,
  IterationPoint,
} from "./experiment_types.ts";

/** Options of {@link drawTokens}. */
export interface DrawOptions {
  /** One class per image. */
  classes: readonly number[];
  /** The effective sampling settings (guidance, temperature, filters, seed). */
  settings: SamplingSettings;
  /** Index of the first image in the whole run (its uniforms or its random stream); default 0. */
  imageOffset?: number;
  /** Receives the sampler's warning (schedule not trained for, model order unknown). */
  onWarning?: (message: string) => void;
}

/** What one draw's trace says, JSON-safe; {@link summarizeTraces} adds batches up. */
export interface BatchTrace {
  /** Images drawn. */
  images: number;
  /** Model calls of the draw (the batch shares them). */
  modelCalls: number;
  /** SJD, per cell: images whose committed token was an accepted draft. */
  acceptedDraft?: number[];
  /** SJD, per cell: drafts tested (per image, before the batch minimum). */
  tested?: number[];
  /** SJD, per cell: tested drafts accepted. */
  acceptedTests?: number[];
  /** SJD, per call: cells the batch committed, and the images' own accepted + 1 summed. */
  iterations?: { committed: number; perImageSum: number }[];
  /** ZipAR: the windows rows started with (rows 1..R-1 of every image), summed, and the count. */
  rowWindows?: { sum: number; rows: number };
}

/** The tokens of one draw, its timing and its trace. */
export interface Drawn {
  /** [images, cells] in flat grid order. */
  tokens: Int32Array;
  /** Wall seconds of the draw. */
  seconds: number;
  /** Seconds inside the model runtime. */
  modelSeconds: number;
  /** The trace's numbers. */
  trace: BatchTrace;
}

/**
 * Steps of a configuration on `grid` where they are fixed: its schedule's, or ZipAR's implied
 * schedule's for a fixed window; null for SJD and adaptive ZipAR (run-dependent).
 */
export function configSteps(spec: ExperimentSpec, schedule: Schedule): number | null {
  const d = spec.decoder;
  if (!d) return schedule.steps.length;
  if (d.kind === "zipar" && !d.adaptive) {
    return zipar(schedule.grid, { window: d.window }).steps.length;
  }
  return null;
}

/** SJD's per-cell and per-call counts from its trace. */
function sjdTrace(
  r: Awaited<ReturnType<typeof sampleJacobi>>,
  cells: number,
): Pick<BatchTrace, "acceptedDraft" | "tested" | "acceptedTests" | "iterations"> {
  const acceptedDraft = new Array<number>(cells).fill(0);
  const tested = new Array<number>(cells).fill(0);
  const acceptedTests = new Array<number>(cells).fill(0);
  for (let b = 0; b < r.images; b++) {
    for (let c = 0; c < cells; c++) acceptedDraft[c] += r.jacobi.acceptedDraft[b * cells + c];
  }
  const iterations = r.jacobi.iterations.map((it) => {
    let perImageSum = 0;
    for (const a of it.accepted) {
      // Drafts n .. n + a - 1 passed; the next one, if any, was tested and rejected.
      for (let i = 0; i < Math.min(a + 1, it.drafts); i++) tested[it.start + i]++;
      for (let i = 0; i < a; i++) acceptedTests[it.start + i]++;
      perImageSum += a + 1;
    }
    return { committed: it.committed, perImageSum };
  });
  return { acceptedDraft, tested, acceptedTests, iterations };
}

/**
 * Draw one batch of a configuration's tokens: `sample()` on `schedule`, or the configuration's
 * decoder on `model` (which must be raster-trained; the samplers refuse another order).
 * @example
 * const d = await drawTokens(model, spec, schedule, { classes: [0, 1], settings });
 * d.trace.modelCalls; // 576 for raster, 208 for ZipAR window 8 on 24x24
 */
export async function drawTokens(
  model: ARModel,
  spec: ExperimentSpec,
  schedule: Schedule,
  o: DrawOptions,
): Promise<Drawn> {
  const cells = cellCount(schedule.grid);
  const n = o.classes.length;
  const offset = o.imageOffset ?? 0;
  const { seed, ...rest } = o.settings;
  // Image i of the run draws from uniforms i * cells .. (i + 1) * cells - 1 (as sampleMany).
  const runUniforms = () => new Rng(seed).skip(offset * cells).uniforms(n * cells);
  const d = spec.decoder;
  const done = (r: SampleResult, extra: Partial<BatchTrace> = {}): Drawn => ({
    tokens: r.tokens,
    seconds: r.seconds,
    modelSeconds: r.modelSeconds,
    trace: { images: n, modelCalls: r.trace.length, ...extra },
  });
  if (!d) {
    const r = await sample(model, {
      schedule,
      classes: o.classes,
      ...rest,
      uniforms: runUniforms(),
      onWarning: o.onWarning,
    });
    return done(r);
  }
  if (d.kind === "zipar") {
    const r = await sampleZipAR(model, {
      classes: o.classes,
      window: d.window,
      ...rest,
      ...(d.adaptive
        ? { adaptive: { minWindow: d.adaptive.minWindow }, seed, imageOffset: offset }
        : { uniforms: runUniforms() }),
      onWarning: o.onWarning,
    });
    const { rows } = rasterRows(schedule.grid);
    let sum = 0;
    for (let b = 0; b < n; b++) {
      for (let row = 1; row < rows; row++) sum += r.zipar.rowWindows[b * rows + row];
    }
    return done(r, { rowWindows: { sum, rows: n * (rows - 1) } });
  }
  const r = await sampleJacobi(model, {
    classes: o.classes,
    draftLength: d.draftLength,
    draftInit: d.draftInit,
    ...rest,
    seed,
    imageOffset: offset,
    onWarning: o.onWarning,
  });
  return done(r, sjdTrace(r, cells));
}

const r4 = (x: number) => Number(x.toPrecision(6));

/**
 * Add the traces of a run's batches up: model calls per image (each image counts its batch's
 * calls) and, for a decoder, the {@link DecoderTrace} written to the configuration's result.
 */
export function summarizeTraces(
  decoder: DecoderSpec | undefined,
  traces: readonly BatchTrace[],
  cells: number,
): { modelCalls: number; decoderTrace?: DecoderTrace } {
  const images = traces.reduce((a, t) => a + t.images, 0);
  const modelCalls = r4(traces.reduce((a, t) => a + t.images * t.modelCalls, 0) / images);
  if (!decoder) return { modelCalls };
  if (decoder.kind === "zipar") {
    const sum = traces.reduce((a, t) => a + (t.rowWindows?.sum ?? 0), 0);
    const rows = traces.reduce((a, t) => a + (t.rowWindows?.rows ?? 0), 0);
    return {
      modelCalls,
      decoderTrace: { kind: "zipar", images, meanRowWindow: rows ? r4(sum / rows) : undefined },
    };
  }
  const perCell = (key: "acceptedDraft" | "tested" | "acceptedTests") => {
    const out = new Array<number>(cells).fill(0);
    for (const t of traces) t[key]?.forEach((v, c) => out[c] += v);
    return out;
  };
  const accepted = perCell("acceptedDraft");
  const tested = perCell("tested");
  const passed = perCell("acceptedTests");
  const iterations: IterationPoint[] = [];
  for (const t of traces) {
    t.iterations?.forEach((it, i) => {
      const p = iterations[i] ??= { iteration: i, batches: 0, committed: 0, perImage: 0 };
      p.batches++;
      p.committed += it.committed;
      p.perImage += it.perImageSum / t.images;
    });
  }
  for (const p of iterations) {
    p.committed = r4(p.committed / p.batches);
    p.perImage = r4(p.perImage / p.batches);
  }
  return {
    modelCalls,
    decoderTrace: {
      kind: "sjd",
      images,
      acceptedDraftMap: accepted.map((v) => r4(v / images)),
      // null where no draft was tested (the last cell is never drafted: no slot follows it).
      acceptanceRateMap: passed.map((v, c) => tested[c] ? r4(v / tested[c]) : null),
      iterations,
      // Cells committed per call: an image's cells over the calls its batch made, on average.
      cellsPerCall: r4(cells / modelCalls),
    },
  };
}
