/**
 * The speed/quality experiments of the PAR paper (Table 2 and the Table 4 ablations) on the emoji
 * fixture: for every configuration (a schedule on a model), sample the same number of pictures
 * per class from fixed seeds, time it, score the samples against real training grids (Fréchet
 * distance and KID of emoji-classifier features, class accuracy, neighbour-pair JS divergence)
 * and teacher-force the val split for the NLL under the schedule. Also scores real val grids the
 * same way: the floor a perfect generator would reach at that sample size.
 *
 * Beside the schedules on their own models, training-free decoders run on the unchanged raster
 * model (`decoder` in the configuration: ZipAR at windows 2, 4, 8 and adaptive, SJD with 4 and 15
 * drafts); how any configuration draws its tokens is analysis/experiment_draw.ts.
 *
 * Resumable: every configuration writes `tokens.npy`, `labels.npy` and `sampling.json` when its
 * sampling is done and `result.json` when it is scored; a rerun with the same settings and model
 * files skips what is finished (a changed setting or model file redoes that configuration).
 * Timing comes last, all configurations in round-robin (analysis/experiment_timing.ts); scoring
 * is in analysis/experiment_quality.ts.
 * Shared by `deno task analyze` (section 3) and `notebooks/03_speed_quality.ipynb`.
 * @module
 */
import { codeFraction, score, whiteCodes } from "./experiment_quality.ts";
export { codeFraction, whiteCodes } from "./experiment_quality.ts";
import { timeStale } from "./experiment_timing.ts";
import { type BatchTrace, configSteps, drawTokens, summarizeTraces } from "./experiment_draw.ts";
import type {
  DecoderTrace,
  ExperimentResult,
  ExperimentSettings,
  ExperimentSpec,
  QualityNumbers,
} from "./experiment_types.ts";
export type {
  DecoderSpec,
  DecoderTrace,
  ExperimentResult,
  ExperimentSettings,
  ExperimentSpec,
  IterationPoint,
  ModelCalls,
  QualityNumbers,
} from "./experiment_types.ts";
import {
  type ARModel,
  cellCount,
  effectiveSettings,
  encodeNpy,
  FIXTURE_MODELS_DIR,
  fixtureModel,
  loadEmojiClassifier,
  loadEmojiDataset,
  loadLabelFile,
  loadModel,
  loadPatchTokenizer,
  loadTokenFile,
  type MetricsReference,
  prepareReference,
  progress,
  ResumeStore,
  Rng,
  type Schedule,
  scheduleByName,
  teacherForce,
  tokensToMosaic,
  UsageError,
  writeFileAtomic,
} from "./deps.ts";
import { BACKEND_CHOICES, type BackendName, BackendSchema } from "../src/runtime/backends.ts";
import { EMOJI_FIXTURE_DIR } from "../src/data/emoji_fixture.ts";

/** A backend name (`--backend`): one of the backend table's, or `auto` (src/runtime/backends.ts). */
export type Backend = BackendName;

/** The standard configurations: each schedule on its own model, then two cross pairings. */
export const EXPERIMENTS: readonly ExperimentSpec[] = [
  { id: "raster", model: "raster", schedule: "raster", label: "raster 1x", short: "raster" },
  { id: "par4", model: "par4", schedule: "par4", label: "PAR-4x", short: "PAR-4x" },
  { id: "par16", model: "par16", schedule: "par16", label: "PAR-16x", short: "PAR-16x" },
  {
    id: "raster4",
    model: "raster4",
    schedule: "raster4",
    label: "raster groups of 4",
    short: "raster4",
  },
  {
    id: "par4-causal",
    model: "par4-causal",
    schedule: "par4-causal",
    label: "PAR-4x causal",
    short: "causal",
  },
  {
    id: "par4-noinit",
    model: "par4-noinit",
    schedule: "par4-noinit",
    label: "PAR-4x no init",
    short: "no init",
  },
  {
    id: "par4-model-causal",
    model: "par4",
    schedule: "par4-causal",
    label: "par4 model, causal inference",
    short: "par4 m./causal",
    cross: true,
  },
  {
    id: "par4-model-raster4",
    model: "par4",
    schedule: "raster4",
    label: "par4 model, raster-4 inference",
    short: "par4 m./raster4",
    cross: true,
  },
  // Training-free decoders on the unchanged raster model (val NLL: raster order).
  ...[2, 4, 8].map((window): ExperimentSpec => ({
    id: `zipar${window}`,
    model: "raster",
    schedule: "raster",
    label: `ZipAR window ${window} (raster model)`,
    short: `ZipAR-${window}`,
    decoder: { kind: "zipar", window },
  })),
  {
    id: "zipar-adaptive",
    model: "raster",
    schedule: "raster",
    label: "ZipAR adaptive window 3..8 (raster model)",
    short: "ZipAR-ad.",
    decoder: { kind: "zipar", window: 8, adaptive: { minWindow: 2 } },
  },
  ...[4, 15].map((draftLength): ExperimentSpec => ({
    id: `sjd${draftLength}`,
    model: "raster",
    schedule: "raster",
    label: `SJD ${draftLength} drafts (raster model)`,
    short: `SJD-${draftLength}`,
    decoder: { kind: "sjd", draftLength },
  })),
];

/** The training-free decoder configurations quick mode runs (one ZipAR, one SJD: the cheapest). */
export const QUICK_DECODERS: readonly string[] = ["zipar2", "sjd4"];

/**
 * Quick mode's configurations (CI, `deno task analyze --quick`, `PARLAB_QUICK=1` notebooks): the
 * schedules on their own models without the cross pairings, and one ZipAR and one SJD decoder.
 */
export const QUICK_EXPERIMENTS: readonly ExperimentSpec[] = EXPERIMENTS.filter((e) =>
  !e.cross && (!e.decoder || QUICK_DECODERS.includes(e.id))
);

/** Settings of the full run (`deno task analyze`). */
export const DEFAULT_SETTINGS: ExperimentSettings = {
  perClass: 32,
  seed: 0,
  batchSize: 8,
  latencyImages: 3,
  timingRounds: 5,
  timingWarmup: true,
  nllGrids: null,
  referencePerClass: 146,
  kidSubsets: 100,
  bootstrap: 50,
  mosaicPerClass: 8,
  cfgScale: null,
};

/** Settings of quick mode (CI): a few pictures, a few val grids, a small reference. */
export const QUICK_SETTINGS: ExperimentSettings = {
  perClass: 1,
  seed: 0,
  batchSize: 8,
  latencyImages: 1,
  timingRounds: 1,
  timingWarmup: false,
  nllGrids: 8,
  referencePerClass: 12,
  kidSubsets: 10,
  bootstrap: 5,
  mosaicPerClass: 1,
  cfgScale: null,
};

/** Options of {@link runExperiments}. */
export interface ExperimentOptions extends Partial<ExperimentSettings> {
  /** Output folder (one subfolder per configuration plus `experiments.json`). */
  outDir: string;
  /** Folder with the model manifests (default: the repository's fixtures/models). */
  modelsDir?: string;
  /** Model name prefixes in order of preference (default `emoji-`, then `tiny-`). */
  prefixes?: string[];
  /** Which configurations (default: all of {@link EXPERIMENTS}). */
  configs?: readonly ExperimentSpec[];
  /** Backend (default `cpu`). */
  backend?: Backend;
  /** Intra-op threads of the model runtime (default: the runtime's choice). */
  threads?: number;
  /** Redo finished configurations. */
  force?: boolean;
  /**
   * Token data folder for the reference, the val NLL and the floor (default: the folder of the
   * models' codebook, see {@link modelsDataDir}).
   */
  dataDir?: string;
  /** Time all configurations again (e.g. on a quieter machine), keeping samples and scores. */
  retime?: boolean;
  /** Progress bars on stderr (default true). */
  progress?: boolean;
  /** Where status lines go (default console.log). */
  log?: (line: string) => void;
}

/** A result row with the speed-ups against raster 1x filled in. */
export interface ExperimentRow extends ExperimentResult {
  /** Latency of raster 1x over this latency (null without both). */
  speedupLatency: number | null;
  /** Throughput seconds per image of raster 1x over this one. */
  speedupThroughput: number | null;
  /** Fraction of sampled cells that are plain white background codes (see `whiteCodes`). */
  whiteFraction: number;
}

/** The real-data floor: held-out val grids scored like the samples. */
export interface FloorResult {
  /** What was scored. */
  what: string;
  /** Quality numbers (no NLL, no timing). */
  quality: QualityNumbers;
  /** Settings fingerprint. */
  fingerprint: string;
}

/** What {@link runExperiments} returns and writes to `experiments.json`. */
export interface ExperimentsSummary {
  /** Machine, cores, runtime. */
  machine: string;
  /** Backend flag. */
  backend: Backend;
  /** Backend string the models reported. */
  backendDetail: string;
  /** Settings of the run. */
  settings: ExperimentSettings;
  /** Models that ran, by configuration. */
  models: Record<string, string>;
  /** The token data folder of the reference, the val NLL and the floor (absent before issue 15). */
  data?: string;
  /** Reference: which real grids the samples are compared with. */
  reference: string;
  /** The floor row. */
  floor: FloorResult;
  /** Fraction of white background cells in the floor's real grids (the samples' is per row). */
  floorWhiteFraction: number;
  /** One row per configuration, in the order run. */
  rows: ExperimentRow[];
  /** Configurations skipped because no model exists for them. */
  missing: string[];
  /** Seconds of this call (resumed work is not counted). */
  seconds: number;
}

/**
 * The manifest path of a configuration's model: the first prefix whose `<prefix><config>.json`
 * exists (default `emoji-` before `tiny-`), or null.
 * @example
 * await findModel("fixtures/models", "par4"); // "fixtures/models/emoji-par4.json" once trained
 */
export async function findModel(
  dir: string,
  config: string,
  prefixes: readonly string[] = ["emoji-", "tiny-"],
): Promise<string | null> {
  const url = await fixtureModel(config, dir, prefixes);
  // The path as the caller wrote the folder (relative stays relative in reports).
  return url && `${dir.replace(/\/$/, "")}/${url.pathname.split("/").at(-1)}`;
}

/**
 * The token data folder models were trained on: the folder of their manifests' patch k-means
 * codebook (`fixtures/emoji` for the 24x24 models, `fixtures/emoji16` for the 16x16 ones);
 * `fixtures/emoji` when none names one. Models trained on different data are a user error.
 * @example
 * await modelsDataDir(["fixtures/models/emoji-par4.json"]); // "fixtures/emoji16"
 */
export async function modelsDataDir(manifestPaths: readonly string[]): Promise<string> {
  const dirs = new Set<string>();
  for (const path of manifestPaths) {
    const m = await readJson<{ tokenizer?: { kind?: string; codebook?: string } | null }>(path);
    const codebook = m?.tokenizer?.kind === "patch-kmeans" ? m.tokenizer.codebook : undefined;
    if (!codebook) continue;
    const base = new URL(path, `file://${Deno.cwd()}/`);
    dirs.add(portable(new URL(".", new URL(codebook, base)).pathname));
  }
  if (dirs.size > 1) {
    throw new UsageError(
      `the models were trained on different token data (${[...dirs].join(", ")}). Fix: score ` +
        "them in separate runs (--configs), or pass --data",
    );
  }
  return dirs.size === 1 ? [...dirs][0] : portable(EMOJI_FIXTURE_DIR.pathname);
}

/** A folder relative to the working folder when inside it (reports stay portable), else absolute. */
function portable(dir: string): string {
  const d = dir.replace(/\/$/, "");
  return d.startsWith(`${Deno.cwd()}/`) ? d.slice(Deno.cwd().length + 1) : d;
}

/**
 * The common start of an experiment run (image or video): the backend checked, and which
 * configurations have a model in the models folder (in order) and which have none.
 */
export async function planRun(
  options: { backend?: Backend; modelsDir?: string },
  configs: readonly ExperimentSpec[],
  prefixes?: readonly string[],
): Promise<{
  backend: Backend;
  modelsDir: string;
  planned: { spec: ExperimentSpec; path: string }[];
  missing: string[];
}> {
  const backend = options.backend ?? "cpu";
  if (!BackendSchema.safeParse(backend).success) {
    throw new UsageError(
      `backend: "${backend}" is not one of ${BACKEND_CHOICES}. Fix: pick one of them`,
    );
  }
  const modelsDir = options.modelsDir ?? FIXTURE_MODELS_DIR.pathname;
  const planned: { spec: ExperimentSpec; path: string }[] = [];
  const missing: string[] = [];
  for (const spec of configs) {
    const path = await findModel(modelsDir, spec.model, prefixes);
    if (path) planned.push({ spec, path });
    else missing.push(spec.id);
  }
  return { backend, modelsDir, planned, missing };
}

/** Read a JSON file, or null when it is missing or unreadable. */
async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch {
    return null;
  }
}

const r4 = (x: number) => Number(x.toPrecision(6));

/** Up to `perClass` rows of each class, seeded, in class order; returns row indices. */
export function balancedRows(
  labels: ArrayLike<number>,
  numClasses: number,
  perClass: number,
  seed: number,
): number[] {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  const rng = new Rng(seed);
  return byClass.flatMap((rows) => rng.shuffle(rows).slice(0, perClass).sort((a, b) => a - b));
}

/** The grids (and labels) of `rows` of a token dataset, in that order. */
export function gather(
  ds: { tokens: Uint16Array; labels: ArrayLike<number>; height: number; width: number },
  rows: number[],
) {
  const cells = ds.height * ds.width;
  const tokens = new Uint16Array(rows.length * cells);
  rows.forEach((r, i) => tokens.set(ds.tokens.subarray(r * cells, (r + 1) * cells), i * cells));
  return {
    n: rows.length,
    height: ds.height,
    width: ds.width,
    tokens,
    labels: Uint8Array.from(rows, (r) => ds.labels[r]),
  };
}

/** Count parameters roughly from the manifest geometry (for the report only). */
function parameterLabel(m: ARModel["manifest"]): string {
  const prov = m.provenance as Record<string, unknown> | undefined;
  const p = prov?.parameters;
  if (typeof p === "number") {
    return p >= 1e6 ? `${(p / 1e6).toFixed(2)}M` : `${Math.round(p / 1e3)}k`;
  }
  return `${m.layers} layers, width ${m.dim}`;
}

/** Shared, loaded once per run: data, tokenizer, classifier, reference. */
interface Context {
  tokenizer: Awaited<ReturnType<typeof loadPatchTokenizer>>;
  classifier: Awaited<ReturnType<typeof loadEmojiClassifier>>;
  reference: MetricsReference;
  referenceLabel: string;
  val: Awaited<ReturnType<typeof loadEmojiDataset>>;
  nllSet: ReturnType<typeof gather>;
}

async function loadContext(s: ExperimentSettings, dataDir: string): Promise<Context> {
  const [train, val, tokenizer, classifier] = await Promise.all([
    loadEmojiDataset("train", dataDir),
    loadEmojiDataset("val", dataDir),
    loadPatchTokenizer(dataDir),
    loadEmojiClassifier(),
  ]);
  const C = train.classNames.length;
  // Class-balanced reference: the samples are class-balanced, so the real side must be too,
  // or every configuration would pay for the class mix (train is 61% People & Body).
  const refRows = balancedRows(train.labels, C, s.referencePerClass, s.seed);
  const refGrids = gather(train, refRows);
  const reference = await prepareReference(refGrids, tokenizer, classifier);
  const nllRows = s.nllGrids === null
    ? Array.from({ length: val.n }, (_, i) => i)
    : new Rng(s.seed + 1).shuffle(Array.from({ length: val.n }, (_, i) => i))
      .slice(0, s.nllGrids).sort((a, b) => a - b);
  return {
    tokenizer,
    classifier,
    reference,
    referenceLabel:
      `${refRows.length} train grids, up to ${s.referencePerClass} per class (seed ${s.seed})`,
    val,
    nllSet: gather(val, nllRows),
  };
}

interface SamplingRecord {
  fingerprint: string;
  images: number;
  /** Steps where fixed (see `configSteps`); null for SJD and adaptive ZipAR. */
  steps: number | null;
  backend: string;
  sampling: ExperimentResult["sampling"];
  /** Model calls per image (each image counting its batch's calls); absent in older records. */
  modelCalls?: number;
  /** A decoder's trace, summed over the batches. */
  decoderTrace?: DecoderTrace;
}

/** The saved trace of a finished batch, beside its tokens in the resume store's folder. */
interface SavedTrace extends BatchTrace {
  fingerprint: string;
}

/**
 * Sample (or reuse) one configuration's tokens: batches of `batchSize` from image 0, each drawn
 * by `drawTokens`; a finished batch's tokens (ResumeStore) and trace (`<start>.trace.json` beside
 * them) survive an interruption, and a batch without its trace is drawn again.
 */
async function sampleStage(
  dir: string,
  model: ARModel,
  schedule: Schedule,
  spec: ExperimentSpec,
  s: ExperimentSettings,
  fingerprint: string,
  opts: { force: boolean; progress: boolean; log: (l: string) => void },
): Promise<{ record: SamplingRecord; tokens: Uint16Array; labels: Uint8Array | Uint16Array }> {
  const m = model.manifest;
  const classes = Array.from(
    { length: m.numClasses * s.perClass },
    (_, i) => Math.floor(i / s.perClass),
  );
  const done = opts.force ? null : await readJson<SamplingRecord>(`${dir}/sampling.json`);
  if (done && done.fingerprint === fingerprint) {
    try {
      const grids = await loadTokenFile(`${dir}/tokens.npy`, {
        vocabSize: m.vocabSize,
        height: schedule.grid.height,
        width: schedule.grid.width,
      });
      const labels = await loadLabelFile(`${dir}/labels.npy`, {
        n: grids.n,
        numClasses: m.numClasses,
      });
      if (grids.n === classes.length) {
        opts.log(`  ${spec.id}: samples found, reusing them`);
        return { record: done, tokens: grids.tokens, labels };
      }
    } catch {
      // damaged or missing: sample again
    }
  }
  const settings = effectiveSettings(m, { cfgScale: s.cfgScale ?? undefined, seed: s.seed });
  const bar = opts.progress
    ? progress(`sampling ${spec.id}`, classes.length)
    : { update() {}, stop() {} };
  const warnings: string[] = [];
  const cells = cellCount(schedule.grid);
  const N = classes.length;
  const B = Math.max(1, s.batchSize);
  // Finished batches survive an interruption: the same fingerprint resumes them.
  const store = new ResumeStore(`${dir}/parts`, cells);
  const resume = await store.load({ fingerprint }, N, {
    onMismatch: "discard",
    fresh: opts.force,
  });
  const tracePath = (start: number) => `${store.dir}/${start}.trace.json`;
  const traces: BatchTrace[] = [];
  let resumed = 0;
  while (resume && resumed < resume.length / cells) {
    const t = await readJson<SavedTrace>(tracePath(resumed));
    if (!t || t.fingerprint !== fingerprint || t.images !== Math.min(B, N - resumed)) break;
    traces.push(t);
    resumed += t.images;
  }
  const tokens = new Int32Array(N * cells);
  if (resume && resumed > 0) tokens.set(resume.subarray(0, resumed * cells));
  bar.update(resumed);
  for (let i = resumed; i < N; i += B) {
    const n = Math.min(B, N - i);
    const drawn = await drawTokens(model, spec, schedule, {
      classes: classes.slice(i, i + n),
      settings,
      imageOffset: i,
      onWarning: i === resumed ? (w) => warnings.push(w) : () => {},
    });
    tokens.set(drawn.tokens, i * cells);
    // The trace first: a batch is only resumed when both are there.
    const saved: SavedTrace = { fingerprint, ...drawn.trace };
    await writeFileAtomic(tracePath(i), JSON.stringify(saved));
    await store.save(i, drawn.tokens);
    traces.push(drawn.trace);
    bar.update(i + n);
  }
  bar.stop();
  if (warnings.length && !spec.cross) opts.log(`  warning: ${warnings[0]}`);
  const labels = Uint8Array.from(classes);
  const { height, width } = schedule.grid;
  const tokens16 = Uint16Array.from(tokens);
  await writeFileAtomic(
    `${dir}/tokens.npy`,
    encodeNpy({ dtype: "uint16", shape: [N, height, width], data: tokens16 }, false),
  );
  await writeFileAtomic(
    `${dir}/labels.npy`,
    encodeNpy({ dtype: "uint8", shape: [N], data: labels }, false),
  );
  const { modelCalls, decoderTrace } = summarizeTraces(spec.decoder, traces, cells);
  const record: SamplingRecord = {
    fingerprint,
    images: N,
    steps: configSteps(spec, schedule),
    backend: model.backend,
    sampling: {
      cfgScale: settings.cfgScale,
      cfgInterval: settings.cfgInterval,
      temperature: settings.temperature,
      seed: settings.seed,
    },
    modelCalls,
    ...(decoderTrace ? { decoderTrace } : {}),
  };
  await writeFileAtomic(`${dir}/sampling.json`, JSON.stringify(record, null, 1));
  await store.remove();
  return { record, tokens: tokens16, labels };
}

/** Run (or resume) one configuration; null when no model exists for it. */
async function runOne(
  spec: ExperimentSpec,
  modelPath: string,
  ctx: Context,
  s: ExperimentSettings,
  o:
    & Required<
      Pick<ExperimentOptions, "outDir" | "backend" | "force" | "progress" | "log">
    >
    & {
      threads?: number;
      /** Val NLL by model sha256 and schedule, shared by this run's configurations. */
      nll: Map<string, ExperimentResult["valNll"]>;
      /** The data the models are scored on (checked against each model's grid). */
      dataGrid: { dir: string; height: number; width: number; vocabSize: number };
    },
): Promise<ExperimentResult> {
  const dir = `${o.outDir}/${spec.id}`;
  const model = await loadModel(modelPath, { backend: o.backend, threads: o.threads });
  try {
    const m = model.manifest;
    const g = o.dataGrid;
    if (m.grid.height !== g.height || m.grid.width !== g.width || m.vocabSize !== g.vocabSize) {
      throw new UsageError(
        `${modelPath}: the model makes ${m.grid.height}x${m.grid.width} grids of ${m.vocabSize} ` +
          `codes but the data in ${g.dir} is ${g.height}x${g.width} of ${g.vocabSize}. Fix: pass ` +
          "--data with the folder the model was trained on (its manifest's tokenizer.codebook)",
      );
    }
    const schedule = scheduleByName(m.grid, spec.schedule);
    const sampleKey = JSON.stringify({
      model: m.name,
      sha256: m.sha256,
      schedule: spec.schedule,
      backend: o.backend,
      perClass: s.perClass,
      seed: s.seed,
      batchSize: s.batchSize,
      latencyImages: s.latencyImages,
      cfgScale: s.cfgScale,
      // The manifest's defaults apply where the settings leave them open (guidance, temperature,
      // top-k/p): a manifest edited in place must not reuse samples drawn under the old ones.
      manifestSampling: m.sampling,
      // Only for decoders, so the keys of the schedule configurations stay as they were.
      ...(spec.decoder ? { decoder: spec.decoder } : {}),
    });
    const fingerprint = JSON.stringify({
      sampling: sampleKey,
      // Scores depend on the data (reference, val NLL) even where the samples do not.
      data: o.dataGrid.dir,
      nllGrids: s.nllGrids,
      referencePerClass: s.referencePerClass,
      kidSubsets: s.kidSubsets,
      bootstrap: s.bootstrap,
      mosaicPerClass: s.mosaicPerClass,
    });
    const nllKey = `${m.sha256} ${spec.schedule}`;
    const done = o.force ? null : await readJson<ExperimentResult>(`${dir}/result.json`);
    if (done && done.fingerprint === fingerprint) {
      o.log(`  ${spec.id}: finished before (${dir}/result.json), skipped`);
      // Same fingerprint, same val grids: its NLL serves the other configurations of the model.
      if (done.valNll.grids === ctx.nllSet.n) o.nll.set(nllKey, done.valNll);
      return done;
    }
    const { record, tokens, labels } = await sampleStage(
      dir,
      model,
      schedule,
      spec,
      s,
      sampleKey,
      o,
    );
    const { height, width } = schedule.grid;
    const n = record.images;
    const quality = await score(ctx, { n, height, width, tokens }, labels, s);
    // Val NLL under the schedule: how well the model predicts held-out grids in this order (the
    // decoders' rows: the unchanged raster model under raster, computed once per model).
    let valNll = o.nll.get(nllKey);
    if (!valNll) {
      const bar = o.progress
        ? progress(`teacher forcing ${spec.id}`, ctx.nllSet.n)
        : { update() {}, stop() {} };
      const tf = await teacherForce(model, schedule, ctx.nllSet.tokens, ctx.nllSet.labels, {
        batchSize: 16,
        onProgress: (k) => bar.update(k),
        onWarning: () => {},
      });
      bar.stop();
      const nats = tf.nll.reduce((a, x) => a + x, 0) / tf.nll.length;
      valNll = { grids: ctx.nllSet.n, nats: r4(nats) };
      o.nll.set(nllKey, valNll);
    }
    // Mosaic: one row per class, the first `mosaicPerClass` samples of each.
    const k = Math.min(s.mosaicPerClass, s.perClass);
    const cells = height * width;
    const shown = new Uint16Array(m.numClasses * k * cells);
    for (let c = 0; c < m.numClasses; c++) {
      for (let j = 0; j < k; j++) {
        const src = (c * s.perClass + j) * cells;
        shown.set(tokens.subarray(src, src + cells), (c * k + j) * cells);
      }
    }
    const png = await tokensToMosaic(
      { n: m.numClasses * k, height, width, tokens: shown },
      ctx.tokenizer,
      { cols: k, scale: 2 },
    );
    await writeFileAtomic(`${dir}/samples.png`, png);
    const result: ExperimentResult = {
      spec,
      model: {
        name: m.name,
        file: modelPath.split("/").at(-1)!,
        sha256: m.sha256,
        parameters: parameterLabel(m),
      },
      steps: record.steps,
      // Records written before calls were counted: sample() makes one call per step.
      modelCalls: { sampling: record.modelCalls ?? record.steps ?? NaN, batch1: null },
      ...(record.decoderTrace ? { decoderTrace: record.decoderTrace } : {}),
      images: n,
      backend: record.backend,
      sampling: record.sampling,
      // Filled by the timing phase (timeAll), after every configuration is sampled.
      secondsPerImage: null,
      batchSize: s.batchSize,
      latencySeconds: null,
      modelShare: 0,
      quality,
      valNll,
      mosaic: "samples.png",
      fingerprint,
    };
    await writeFileAtomic(`${dir}/result.json`, JSON.stringify(result, null, 1));
    return result;
  } finally {
    await model.dispose();
  }
}

/** Fill the speed-ups against the raster 1x row (when it ran). */
export function withSpeedups(
  results: ExperimentResult[],
  whiteFractions: number[] = [],
): ExperimentRow[] {
  const base = results.find((r) => r.spec.id === "raster");
  return results.map((r, k) => ({
    ...r,
    whiteFraction: whiteFractions[k] ?? NaN,
    speedupLatency: base?.latencySeconds && r.latencySeconds
      ? r4(base.latencySeconds / r.latencySeconds)
      : null,
    speedupThroughput: base?.secondsPerImage && r.secondsPerImage
      ? r4(base.secondsPerImage / r.secondsPerImage)
      : null,
  }));
}

/**
 * Run (or resume) the experiments and write `experiments.json` into `outDir`.
 * @example
 * const summary = await runExperiments({ outDir: "results/experiments", ...QUICK_SETTINGS });
 * summary.rows.map((r) => [r.spec.label, r.quality.frechet, r.latencySeconds]);
 */
export async function runExperiments(options: ExperimentOptions): Promise<ExperimentsSummary> {
  const t0 = performance.now();
  const s: ExperimentSettings = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof ExperimentSettings)[]) {
    if (options[key] !== undefined) (s as unknown as Record<string, unknown>)[key] = options[key];
  }
  if (!Number.isInteger(s.perClass) || s.perClass < 1) {
    throw new UsageError(`perClass: ${s.perClass} is not a positive integer. Fix: e.g. 32`);
  }
  const log = options.log ?? ((l: string) => console.log(l));
  const configs = options.configs ?? EXPERIMENTS;
  const { backend, modelsDir, planned, missing } = await planRun(
    options,
    configs,
    options.prefixes,
  );
  if (planned.length === 0) {
    throw new UsageError(
      `no model found in ${modelsDir} for ${configs.map((c) => c.model).join(", ")}. ` +
        "Fix: pass the folder with emoji-<config>.json or tiny-<config>.json",
    );
  }
  const dataDir = options.dataDir ?? await modelsDataDir(planned.map((p) => p.path));
  const ctx = await loadContext(s, dataDir);
  const o = {
    outDir: options.outDir,
    backend,
    force: options.force ?? false,
    progress: options.progress ?? true,
    log,
    threads: options.threads,
    nll: new Map<string, ExperimentResult["valNll"]>(),
    dataGrid: {
      dir: dataDir,
      height: ctx.val.height,
      width: ctx.val.width,
      vocabSize: ctx.val.vocabSize,
    },
  };
  try {
    // The floor: held-out real grids, class-balanced like the samples (a class with fewer val
    // grids than perClass gives all it has).
    const floorKey = JSON.stringify({
      perClass: s.perClass,
      seed: s.seed,
      referencePerClass: s.referencePerClass,
      kidSubsets: s.kidSubsets,
      bootstrap: s.bootstrap,
    });
    let floor = o.force ? null : await readJson<FloorResult>(`${o.outDir}/floor.json`);
    if (!floor || floor.fingerprint !== floorKey) {
      const C = ctx.val.classNames.length;
      const rows = balancedRows(ctx.val.labels, C, s.perClass, s.seed);
      const g = gather(ctx.val, rows);
      floor = {
        what: `${g.n} real val grids (up to ${s.perClass} per class) against the reference`,
        quality: await score(ctx, g, g.labels, s),
        fingerprint: floorKey,
      };
      await writeFileAtomic(`${o.outDir}/floor.json`, JSON.stringify(floor, null, 1));
    }
    const results: ExperimentResult[] = [];
    for (const [i, { spec, path }] of planned.entries()) {
      log(`experiment ${i + 1}/${planned.length}: ${spec.label} (${path.split("/").at(-1)})`);
      results.push(await runOne(spec, path, ctx, s, o));
    }
    // Timing: all configurations together, whenever one lacks a timing under these settings.
    const timingKey = JSON.stringify({
      backend,
      threads: o.threads ?? null,
      latencyImages: s.latencyImages,
      timingRounds: s.timingRounds,
      // Only when off, so the keys of runs timed before this setting existed stay valid.
      ...(s.timingWarmup ? {} : { timingWarmup: false }),
      batchSize: s.batchSize,
      configs: planned.map((p) => p.spec.id),
    });
    const timed = await timeStale(
      planned.map((p, k) => ({ ...p, result: results[k] })),
      s,
      {
        load: (path) => loadModel(path, { backend, threads: o.threads }),
        progress: o.progress,
        retime: options.retime,
        outDir: o.outDir,
        log,
        what: "configurations",
      },
      timingKey,
    );
    results.splice(0, results.length, ...timed);
    // Background share of the samples and of the floor's real grids (cheap: read the tokens).
    const white = whiteCodes(ctx.tokenizer.codebook, ctx.tokenizer.downsample ** 2 * 3);
    const whiteFractions: number[] = [];
    for (const r of results) {
      const grids = await loadTokenFile(`${o.outDir}/${r.spec.id}/tokens.npy`, {
        vocabSize: ctx.tokenizer.vocabSize,
      });
      whiteFractions.push(r4(codeFraction(grids.tokens, white)));
    }
    const floorRows = balancedRows(ctx.val.labels, ctx.val.classNames.length, s.perClass, s.seed);
    const floorWhite = r4(codeFraction(gather(ctx.val, floorRows).tokens, white));
    const rows = withSpeedups(results, whiteFractions);
    const summary: ExperimentsSummary = {
      machine: `${Deno.build.os}-${Deno.build.arch}, ${navigator.hardwareConcurrency} cores`,
      backend,
      backendDetail: [...new Set(rows.map((r) => r.backend))].join(", "),
      settings: s,
      models: Object.fromEntries(rows.map((r) => [r.spec.model, r.model.name])),
      data: dataDir,
      reference: ctx.referenceLabel,
      floor,
      floorWhiteFraction: floorWhite,
      rows,
      missing,
      seconds: r4((performance.now() - t0) / 1000),
    };
    await writeFileAtomic(`${o.outDir}/experiments.json`, JSON.stringify(summary, null, 1));
    return summary;
  } finally {
    await ctx.classifier.release();
  }
}
