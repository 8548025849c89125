/**
 * The video rows of the speed/quality experiments: for every video model found (`video-raster`,
 * `video-par4`, `video-par16`, else `tiny-video-<config>`), sample the same number of clips per
 * motion class from fixed seeds, time it like the image rows (round-robin, `timeAll`), and score
 * the clips against real ones (analysis/experiment_video_quality.ts): clip Fréchet distance, KID
 * and class accuracy through the clip classifier, temporal token consistency and the spatial and
 * temporal neighbour-pair divergences, with held-out real val clips as the floor. Plus the
 * entropy probes across frames on the real val clips: mutual information against spatial
 * distance (same frame) and against temporal distance (same cell), and a figure.
 *
 * A model whose grid, codes or classes differ from the clip data (the tiny parity model) gets
 * steps, timing and the temporal consistency of its own samples, and a one-line note instead of
 * the scores. Resumable: a configuration's `result.json` with the same fingerprint is reused.
 * Run by `deno task analyze` (section 4) into `<experiments>/video/`.
 * @module
 */
import {
  type ARModel,
  cellCount,
  effectiveSettings,
  encodeNpy,
  loadModel,
  PatchKMeansTokenizer,
  progress,
  scheduleByName,
  temporalConsistency,
  UsageError,
  writeFileAtomic,
} from "./deps.ts";
import {
  loadVideoDataset,
  loadVideoManifest,
  VIDEO_FIXTURE_DIR,
  type VideoDataset,
} from "../src/data/video_fixture.ts";
import { clipStrips } from "../src/viz/clips.ts";
import { configSteps, drawTokens } from "./experiment_draw.ts";
import { timeStale } from "./experiment_timing.ts";
import type {
  ExperimentSettings,
  ExperimentSpec,
  ModelCalls,
  TimedRecord,
} from "./experiment_types.ts";
import { balancedRows, planRun } from "./experiments.ts";
import {
  type ClipQuality,
  loadClipScoring,
  scoreClips,
  type ScoringSetup,
} from "./experiment_video_quality.ts";
import { type VideoProbe, videoProbe } from "./experiment_video_probe.ts";
import type { BackendName } from "../src/runtime/backends.ts";

export type { ClipQuality } from "./experiment_video_quality.ts";
export type { VideoProbe } from "./experiment_video_probe.ts";

/** The video configurations: each schedule on the model trained for it. */
export const VIDEO_EXPERIMENTS: readonly ExperimentSpec[] = [
  {
    id: "video-raster",
    model: "video-raster",
    schedule: "raster",
    label: "raster 1x",
    short: "raster",
  },
  { id: "video-par4", model: "video-par4", schedule: "par4", label: "PAR-4x", short: "PAR-4x" },
  {
    id: "video-par16",
    model: "video-par16",
    schedule: "par16",
    label: "PAR-16x",
    short: "PAR-16x",
  },
];

/** Model name prefixes in order of preference: the trained models, then the tiny parity ones. */
export const VIDEO_PREFIXES: readonly string[] = ["", "tiny-"];

/**
 * Settings of a video run: the image run's sampling, timing and scoring settings (read "clips"
 * for "pictures"), plus the entropy probes' clip count.
 */
export interface VideoSettings extends
  Pick<
    ExperimentSettings,
    | "perClass"
    | "seed"
    | "batchSize"
    | "latencyImages"
    | "timingRounds"
    | "timingWarmup"
    | "referencePerClass"
    | "kidSubsets"
    | "cfgScale"
  > {
  /** Real val clips of the entropy probes (`null`: all). */
  probeClips: number | null;
}

/** Settings of the full run. */
export const DEFAULT_VIDEO_SETTINGS: VideoSettings = {
  perClass: 32,
  seed: 0,
  batchSize: 8,
  latencyImages: 3,
  timingRounds: 5,
  timingWarmup: true,
  referencePerClass: 200,
  kidSubsets: 100,
  probeClips: null,
  cfgScale: null,
};

/** Settings of quick mode (CI): a clip per class, a small reference, 200 probe clips. */
export const QUICK_VIDEO_SETTINGS: VideoSettings = {
  perClass: 1,
  seed: 0,
  batchSize: 4,
  latencyImages: 1,
  timingRounds: 1,
  timingWarmup: false,
  referencePerClass: 12,
  kidSubsets: 10,
  probeClips: 200,
  cfgScale: null,
};

/** Options of {@link runVideoExperiments}. */
export interface VideoExperimentOptions extends Partial<VideoSettings> {
  /** Output folder (one subfolder per configuration, `video.json`, the probe figure). */
  outDir: string;
  /** Folder with the model manifests (default: the repository's fixtures/models). */
  modelsDir?: string;
  /** Clip token data (default: fixtures/video). */
  dataDir?: string | URL;
  /** Which configurations (default: all of {@link VIDEO_EXPERIMENTS}). */
  configs?: readonly ExperimentSpec[];
  /** Backend (default `cpu`). */
  backend?: BackendName;
  /** Intra-op threads of the model runtime. */
  threads?: number;
  /** Worker count of the probe's pair engine (default 2). */
  workers?: number;
  /** Redo finished configurations and the probe. */
  force?: boolean;
  /** Time all configurations again, keeping samples and scores. */
  retime?: boolean;
  /** Progress bars on stderr (default true). */
  progress?: boolean;
  /** Where status lines go (default console.log). */
  log?: (line: string) => void;
  /** Loads a model manifest (default `loadModel`; tests pass in-memory models). */
  load?: (path: string) => Promise<ARModel>;
}

/** One video configuration's record (`<id>/result.json`); the timing fields are per clip. */
export interface VideoRow extends TimedRecord {
  /** The configuration. */
  spec: ExperimentSpec;
  /** Model that ran. */
  model: { name: string; file: string; sha256: string };
  /** Its clip grid and codes. */
  grid: { frames: number; height: number; width: number };
  /** Codes K of the model. */
  vocabSize: number;
  /** Steps of the schedule per clip. */
  steps: number | null;
  /** Model calls per clip. */
  modelCalls?: ModelCalls;
  /** Clips sampled. */
  clips: number;
  /** Temporal token consistency of the sampled clips (any model, any grid). */
  temporalConsistency: number;
  /** Scores against the real clips, or null when the model does not make the data's clips. */
  quality: ClipQuality | null;
  /** Why `quality` is null. */
  qualityNote?: string;
  /** Frame strips of the first clip of each class (PNG, beside result.json), when decodable. */
  strips?: string;
  /** Settings fingerprint. */
  fingerprint: string;
}

/** A row with the speed-ups against the video raster row filled in. */
export interface VideoRowWithSpeedups extends VideoRow {
  /** Latency of video raster 1x over this latency (null without both). */
  speedupLatency: number | null;
  /** Seconds per clip of video raster 1x over this one (null without both). */
  speedupThroughput: number | null;
}

/** What {@link runVideoExperiments} returns and writes to `video.json`. */
export interface VideoSummary {
  /** `skipped`: nothing ran (see `note`). */
  status: "ran" | "skipped";
  /** One line on what was left out and why. */
  note?: string;
  /** The clip data folder. */
  data: string;
  /** Settings of the run. */
  settings: VideoSettings;
  /** Backend flag. */
  backend: BackendName;
  /** Which real clips the samples are compared with (null without scoring). */
  reference: string | null;
  /** The clip classifier and its recorded val accuracies (its ceiling), or null. */
  classifier: { name: string; valAccuracyReal?: number; valAccuracyRecon?: number } | null;
  /** Real val clips scored like the samples: the floor (null without scoring). */
  floor: ClipQuality | null;
  /** Temporal consistency of the real clips: every val clip, and the reference's train clips. */
  realConsistency: { val: number; reference: number | null } | null;
  /** One row per configuration that ran. */
  rows: VideoRowWithSpeedups[];
  /** Configurations without a model. */
  missing: string[];
  /** The entropy probes across frames on the real val clips (null without data). */
  probe: VideoProbe | null;
  /** Seconds of this call. */
  seconds: number;
}

const r4 = (x: number) => Number(x.toPrecision(6));

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch {
    return null;
  }
}

function settingsOf(options: VideoExperimentOptions): VideoSettings {
  const s: VideoSettings = { ...DEFAULT_VIDEO_SETTINGS };
  for (const key of Object.keys(DEFAULT_VIDEO_SETTINGS) as (keyof VideoSettings)[]) {
    if (options[key] !== undefined) (s as unknown as Record<string, unknown>)[key] = options[key];
  }
  for (const key of ["perClass", "batchSize", "referencePerClass"] as const) {
    if (!Number.isInteger(s[key]) || s[key] < 1) {
      throw new UsageError(`video ${key}: ${s[key]} is not a positive integer. Fix: e.g. 8`);
    }
  }
  return s;
}

/** The clip data and what scoring needs, or why there is none. */
interface VideoData {
  dir: string;
  train: VideoDataset;
  val: VideoDataset;
  tokenizer: PatchKMeansTokenizer;
}

async function loadVideoData(dir: string | URL): Promise<VideoData | string> {
  const url = typeof dir === "string"
    ? new URL(dir.endsWith("/") ? dir : `${dir}/`, `file://${Deno.cwd()}/`)
    : dir;
  const path = decodeURIComponent(url.pathname).replace(/\/$/, "");
  // Relative to the working folder when inside it, so reports stay portable.
  const label = path.startsWith(`${Deno.cwd()}/`) ? path.slice(Deno.cwd().length + 1) : path;
  try {
    await Deno.stat(new URL("manifest.json", url));
  } catch {
    return `no clip data in ${label} (build it with \`deno task data:video\`)`;
  }
  const manifest = await loadVideoManifest(url);
  const [train, val, tokenizer] = await Promise.all([
    loadVideoDataset("train", url),
    loadVideoDataset("val", url),
    PatchKMeansTokenizer.load(new URL(manifest.tokenizer.codebook, url)),
  ]);
  return { dir: label, train, val, tokenizer };
}

/** Token clips with one label each (a data split, or sampled clips). */
interface LabelledClips {
  n: number;
  frames: number;
  height: number;
  width: number;
  tokens: Uint16Array;
  labels: ArrayLike<number>;
}

/** The clips at `rows`, in that order. */
function gather(
  ds: LabelledClips,
  rows: readonly number[],
): LabelledClips & { labels: Uint8Array } {
  const cells = ds.frames * ds.height * ds.width;
  const tokens = new Uint16Array(rows.length * cells);
  rows.forEach((r, i) => tokens.set(ds.tokens.subarray(r * cells, (r + 1) * cells), i * cells));
  return {
    n: rows.length,
    frames: ds.frames,
    height: ds.height,
    width: ds.width,
    tokens,
    labels: Uint8Array.from(rows, (r) => ds.labels[r]),
  };
}

/** Why a model's clips cannot be scored against the data, or null when they can. */
function mismatch(m: ARModel["manifest"], data: VideoData): string | null {
  const g = m.grid;
  const d = data.val;
  if (g.frames !== d.frames || g.height !== d.height || g.width !== d.width) {
    return `its ${g.frames}x${g.height}x${g.width} clips are not the data's ` +
      `${d.frames}x${d.height}x${d.width}`;
  }
  if (m.vocabSize !== d.vocabSize) {
    return `its K = ${m.vocabSize} codes are not the data's ${d.vocabSize}`;
  }
  if (m.numClasses !== d.classNames.length) {
    return `its ${m.numClasses} classes are not the data's ${d.classNames.length} motion types`;
  }
  return null;
}

interface RunContext {
  s: VideoSettings;
  outDir: string;
  backend: BackendName;
  force: boolean;
  progress: boolean;
  log: (line: string) => void;
  load: (path: string) => Promise<ARModel>;
  data: VideoData | null;
  /** Label of the clip data folder (part of the fingerprint: scores depend on it). */
  dataLabel: string;
  scoring: ScoringSetup | null;
}

/** Sample, score and record one configuration (or reuse its finished result). */
async function runOne(spec: ExperimentSpec, path: string, c: RunContext): Promise<VideoRow> {
  const dir = `${c.outDir}/${spec.id}`;
  const model = await c.load(path);
  try {
    const m = model.manifest;
    if ((m.grid.frames ?? 1) < 2) {
      throw new UsageError(
        `${path}: the model makes still pictures (frames 1), not clips. Fix: pass video models ` +
          "(video-<config>.json) in --models",
      );
    }
    const schedule = scheduleByName(m.grid, spec.schedule);
    const s = c.s;
    const why = c.data ? mismatch(m, c.data) : "there is no clip data";
    const scored = why === null && c.scoring !== null;
    const fingerprint = JSON.stringify({
      model: m.name,
      sha256: m.sha256,
      schedule: spec.schedule,
      backend: c.backend,
      perClass: s.perClass,
      seed: s.seed,
      batchSize: s.batchSize,
      cfgScale: s.cfgScale,
      // The manifest's sampling defaults fill what the settings leave open.
      manifestSampling: m.sampling,
      data: c.data ? c.dataLabel : null,
      ...(scored ? { referencePerClass: s.referencePerClass, kidSubsets: s.kidSubsets } : {}),
    });
    const done = c.force ? null : await readJson<VideoRow>(`${dir}/result.json`);
    if (done && done.fingerprint === fingerprint) {
      c.log(`  ${spec.id}: finished before (${dir}/result.json), skipped`);
      return done;
    }
    const settings = effectiveSettings(m, { cfgScale: s.cfgScale ?? undefined, seed: s.seed });
    const classes = Array.from(
      { length: m.numClasses * s.perClass },
      (_, i) => Math.floor(i / s.perClass),
    );
    const cells = cellCount(m.grid);
    const N = classes.length;
    const tokens = new Int32Array(N * cells);
    let calls = 0;
    const bar = c.progress ? progress(`sampling ${spec.id}`, N) : { update() {}, stop() {} };
    for (let i = 0; i < N; i += s.batchSize) {
      const n = Math.min(s.batchSize, N - i);
      const drawn = await drawTokens(model, spec, schedule, {
        classes: classes.slice(i, i + n),
        settings,
        imageOffset: i,
        onWarning: () => {},
      });
      tokens.set(drawn.tokens, i * cells);
      calls += drawn.trace.modelCalls * n;
      bar.update(i + n);
    }
    bar.stop();
    const { frames, height, width } = m.grid;
    const clips = { n: N, frames, height, width, tokens: Uint16Array.from(tokens) };
    const labels = Uint8Array.from(classes);
    await writeFileAtomic(
      `${dir}/tokens.npy`,
      encodeNpy({ dtype: "uint16", shape: [N, frames, height, width], data: clips.tokens }, false),
    );
    await writeFileAtomic(
      `${dir}/labels.npy`,
      encodeNpy({ dtype: "uint8", shape: [N], data: labels }, false),
    );
    let quality: ClipQuality | null = null;
    let strips: string | undefined;
    if (scored) {
      quality = await scoreClips(c.scoring!, clips, labels, s);
      // The first clip of each class, decoded, as frame strips.
      const firsts = classes.flatMap((_, i) => (i % s.perClass === 0 ? [i] : []));
      const first = gather({ ...clips, labels }, firsts);
      const pictures = c.data!.tokenizer.decodeSync(first);
      await writeFileAtomic(
        `${dir}/clips.png`,
        await clipStrips(pictures, {
          scale: 3,
          labels: Array.from(first.labels, (k) => c.data!.val.classNames[k]),
        }),
      );
      strips = "clips.png";
    }
    const row: VideoRow = {
      spec,
      model: { name: m.name, file: path.split("/").at(-1)!, sha256: m.sha256 },
      grid: { frames, height, width },
      vocabSize: m.vocabSize,
      steps: configSteps(spec, schedule),
      modelCalls: { sampling: calls / N, batch1: null },
      clips: N,
      backend: model.backend,
      sampling: {
        cfgScale: settings.cfgScale,
        cfgInterval: settings.cfgInterval,
        temperature: settings.temperature,
        seed: settings.seed,
      },
      secondsPerImage: null,
      batchSize: s.batchSize,
      latencySeconds: null,
      modelShare: 0,
      temporalConsistency: r4(temporalConsistency(clips).share),
      quality,
      ...(scored ? {} : {
        qualityNote: c.scoring === null && why === null
          ? "not scored: the clip classifier is missing"
          : `not scored: ${why}`,
      }),
      ...(strips ? { strips } : {}),
      fingerprint,
    };
    await writeFileAtomic(`${dir}/result.json`, JSON.stringify(row, null, 1));
    return row;
  } finally {
    await model.dispose();
  }
}

/** Fill the speed-ups against the video raster row (when it ran). */
export function withVideoSpeedups(rows: readonly VideoRow[]): VideoRowWithSpeedups[] {
  const base = rows.find((r) => r.spec.schedule === "raster");
  return rows.map((r) => ({
    ...r,
    speedupLatency: base?.latencySeconds && r.latencySeconds
      ? r4(base.latencySeconds / r.latencySeconds)
      : null,
    speedupThroughput: base?.secondsPerImage && r.secondsPerImage
      ? r4(base.secondsPerImage / r.secondsPerImage)
      : null,
  }));
}

function skipped(
  note: string,
  data: string,
  s: VideoSettings,
  backend: BackendName,
  t0: number,
): VideoSummary {
  return {
    status: "skipped",
    note,
    data,
    settings: s,
    backend,
    reference: null,
    classifier: null,
    floor: null,
    realConsistency: null,
    rows: [],
    missing: [],
    probe: null,
    seconds: r4((performance.now() - t0) / 1000),
  };
}

/**
 * Run (or resume) the video experiments and write `video.json` into `outDir`. Without video
 * models it returns a skipped summary with a one-line note (nothing is written).
 * @example
 * const v = await runVideoExperiments({ outDir: "results/experiments/video", ...QUICK_VIDEO_SETTINGS });
 * v.rows.map((r) => [r.spec.label, r.steps, r.latencySeconds, r.quality?.frechet]);
 */
export async function runVideoExperiments(
  options: VideoExperimentOptions,
): Promise<VideoSummary> {
  const t0 = performance.now();
  const s = settingsOf(options);
  const { backend, modelsDir, planned, missing } = await planRun(
    options,
    options.configs ?? VIDEO_EXPERIMENTS,
    VIDEO_PREFIXES,
  );
  const log = options.log ?? ((l: string) => console.log(l));
  const dataDir = options.dataDir ?? VIDEO_FIXTURE_DIR;
  const dataLabel = typeof dataDir === "string" ? dataDir : "fixtures/video";
  if (planned.length === 0) {
    return skipped(
      `no video model in ${modelsDir} (video-raster, video-par4, video-par16 or tiny-video-*)`,
      dataLabel,
      s,
      backend,
      t0,
    );
  }
  const loaded = await loadVideoData(dataDir);
  const data = typeof loaded === "string" ? null : loaded;
  if (typeof loaded === "string") log(`  video: ${loaded}; clips are timed, not scored`);
  const scoring = data ? await loadClipScoring(data, s, log) : null;
  const load = options.load ??
    ((path: string) => loadModel(path, { backend, threads: options.threads }));
  const c: RunContext = {
    s,
    outDir: options.outDir,
    backend,
    force: options.force ?? false,
    progress: options.progress ?? true,
    log,
    load,
    data,
    dataLabel: typeof dataDir === "string" ? dataDir : dataDir.href,
    scoring,
  };
  try {
    const rows: VideoRow[] = [];
    for (const [i, { spec, path }] of planned.entries()) {
      log(`video ${i + 1}/${planned.length}: ${spec.label} (${path.split("/").at(-1)})`);
      rows.push(await runOne(spec, path, c));
    }
    const timingKey = JSON.stringify({
      backend,
      threads: options.threads ?? null,
      latencyImages: s.latencyImages,
      timingRounds: s.timingRounds,
      timingWarmup: s.timingWarmup,
      batchSize: s.batchSize,
      configs: planned.map((p) => p.spec.id),
    });
    const timed = await timeStale(
      planned.map((p, k) => ({ ...p, result: rows[k] })),
      s,
      {
        load,
        progress: c.progress,
        retime: options.retime,
        outDir: c.outDir,
        log,
        what: "video configurations",
      },
      timingKey,
    );
    rows.splice(0, rows.length, ...timed);
    const probe = data
      ? await videoProbe(data.val, {
        outDir: c.outDir,
        codebook: {
          data: data.tokenizer.codebook,
          dim: data.tokenizer.downsample * data.tokenizer.downsample * 3,
        },
        clips: s.probeClips,
        seed: s.seed,
        workers: options.workers ?? 2,
        force: c.force,
      })
      : null;
    const floorRows = data
      ? balancedRows(data.val.labels, data.val.classNames.length, s.perClass, s.seed)
      : [];
    const floorClips = data ? gather(data.val, floorRows) : null;
    const floor = floorClips && scoring
      ? await scoreClips(scoring, floorClips, floorClips.labels, s)
      : null;
    const summary: VideoSummary = {
      status: "ran",
      ...(data ? {} : { note: typeof loaded === "string" ? loaded : undefined }),
      data: data?.dir ?? dataLabel,
      settings: s,
      backend,
      reference: scoring?.label ?? null,
      classifier: scoring?.classifierInfo ?? null,
      floor,
      realConsistency: data
        ? {
          val: r4(temporalConsistency(data.val).share),
          reference: scoring ? r4(scoring.reference.temporal.share) : null,
        }
        : null,
      rows: withVideoSpeedups(rows),
      missing,
      probe,
      seconds: r4((performance.now() - t0) / 1000),
    };
    await writeFileAtomic(`${c.outDir}/video.json`, JSON.stringify(summary, null, 1));
    return summary;
  } finally {
    await scoring?.classifier.release();
  }
}
