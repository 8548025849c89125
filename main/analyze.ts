/**
 * `deno task analyze`: runs the analyses headless and writes a self-contained Markdown report
 * (`report.md`, figures beside it) plus `results.json` with every number into a results folder.
 *
 * Sections (each writes its own JSON; a finished section is skipped on rerun unless `--force`):
 * 1. schedules: step counts, parallelism, adjacency inside steps (model-free, instant);
 * 2. dependency: conditional-entropy maps, MI against distance, schedule dependency cost on the
 *    emoji fixture tokens (src/entropy), and, unless `--quick`, model-based entropy-increase maps
 *    by teacher forcing the fixture models;
 * 3. experiments: speed and quality of every schedule on its model (paper Table 2 and the
 *    Table 4 ablations, analysis/experiments.ts), and of the training-free decoders (ZipAR, SJD)
 *    on the raster model; resumable per configuration.
 * 4. video: steps, seconds and quality of the clip schedules on the video models
 *    (`video-<config>`, else `tiny-video-<config>`; analysis/experiment_video.ts) and the entropy
 *    probes across frames on the real val clips; into `<experiments>/video/` and the `video` field
 *    of experiments.json. Skipped with a one-line note without video models; `--skip-video`
 *    leaves it out.
 *
 * Models: `emoji-<config>` from `--models` when present, else `tiny-<config>`.
 * `--quick` (CI): val split, no model-based maps, 1 picture per class, 8 val grids for the NLL,
 * no cross pairings, one ZipAR and one SJD configuration, one timing round.
 *
 * `--retime` times finished configurations again (samples and scores kept), e.g. once the machine
 * is quiet.
 *
 *   deno task analyze [--out results] [--quick] [--force] [--retime] [--split train|val] [--workers N]
 *     [--models DIR] [--backend cpu|cuda] [--per-class N] [--seed S] [--batch B] [--threads N]
 *     [--configs raster,par4,...] [--data DIR] [--skip-video]
 *
 * `--data` is the token data folder (reference, val NLL, floor, dependency maps); by default the
 * folder of the models' codebook, i.e. the data they were trained on.
 * @module
 */
import {
  makeGrid,
  numberFlag,
  par,
  parseFlags,
  parWithoutInitial,
  randomGroups,
  raster,
  rasterGroups,
  runMain,
  saveFigure,
  scheduleFigure,
  stepsOverTimeFigure,
  UsageError,
  writeFileAtomic,
  z,
} from "../analysis/deps.ts";
import { BACKEND_CHOICES, BackendSchema } from "../src/runtime/backends.ts";
import {
  type DependencyAnalysisSummary,
  runFixtureDependencyAnalysis,
} from "../analysis/dependency.ts";
import { type ScheduleStats, scheduleStats } from "../analysis/schedules.ts";
import {
  DEFAULT_SETTINGS,
  EXPERIMENTS,
  type ExperimentSpec,
  type ExperimentsSummary,
  findModel,
  modelsDataDir,
  QUICK_EXPERIMENTS,
  QUICK_SETTINGS,
  runExperiments,
} from "../analysis/experiments.ts";
import { experimentsMarkdown, writeExperimentFigures } from "../analysis/experiment_report.ts";
import {
  DEFAULT_VIDEO_SETTINGS,
  QUICK_VIDEO_SETTINGS,
  runVideoExperiments,
  type VideoSummary,
} from "../analysis/experiment_video.ts";
import { videoMarkdown } from "../analysis/experiment_video_report.ts";

const Flags = z.object({
  out: z.string().min(1).default("results"),
  quick: z.boolean().default(false),
  force: z.boolean().default(false),
  retime: z.boolean().default(false),
  split: z.enum(["train", "val"]).default("train"),
  workers: numberFlag().pipe(z.number().int().positive().max(64)).default(2),
  models: z.string().default("fixtures/models"),
  backend: BackendSchema.default("cpu"),
  perClass: numberFlag().pipe(z.number().int().positive().max(10000)).optional(),
  seed: numberFlag().pipe(z.number().int()).optional(),
  batch: numberFlag().pipe(z.number().int().positive().max(1024)).optional(),
  threads: numberFlag().pipe(z.number().int().positive().max(256)).optional(),
  configs: z.string().optional(),
  data: z.string().min(1).optional(),
  skipVideo: z.boolean().default(false),
});

const USAGE =
  "Usage: deno task analyze [--out DIR] [--quick] [--force] [--retime] [--split train|val] [--workers N] " +
  `[--models DIR] [--backend ${BACKEND_CHOICES}] [--per-class N] [--seed S] [--batch B] ` +
  "[--threads N] [--configs raster,par4,...] [--data DIR] [--skip-video]";

/** Read a section's JSON if it was finished before (and `--force` is off). */
async function finished<T>(path: string, force: boolean): Promise<T | null> {
  if (force) return null;
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch {
    return null;
  }
}

async function scheduleSection(out: string, force: boolean): Promise<ScheduleStats[]> {
  const path = `${out}/schedules/schedules.json`;
  const done = await finished<ScheduleStats[]>(path, force);
  if (done) return done;
  const image = makeGrid(24, 24);
  const schedules = [
    raster(image),
    par(image, { m: 2 }),
    par(image, { m: 4 }),
    rasterGroups(image, { n: 4 }),
    par(image, { m: 2, attention: "causal" }),
    parWithoutInitial(image, { m: 2 }),
    randomGroups(image, { n: 4, seed: 0 }),
  ];
  await saveFigure(stepsOverTimeFigure(schedules.slice(0, 4)), `${out}/schedules/steps_over_time`);
  await saveFigure(
    scheduleFigure(schedules[1], { colorBy: "region" }),
    `${out}/schedules/order_par4`,
  );
  const stats = schedules.map(scheduleStats);
  await writeFileAtomic(path, JSON.stringify(stats, null, 1));
  return stats;
}

async function dependencySection(
  out: string,
  flags: z.infer<typeof Flags>,
  dataDir: string,
): Promise<{ summary: DependencyAnalysisSummary; models: string[] }> {
  const dir = `${out}/dependency${flags.quick ? "-quick" : ""}`;
  const path = `${dir}/dependency.json`;
  const models: string[] = [];
  if (!flags.quick) {
    for (const config of ["raster", "par4", "par16", "raster4"]) {
      const m = await findModel(flags.models, config);
      if (m) models.push(m);
    }
  }
  const done = await finished<DependencyAnalysisSummary>(path, flags.force);
  // Summaries from before ZipAR's costs were probed lack them: the section runs again.
  // Summaries from another data folder (or from before it was recorded) are stale.
  const sameData = (done?.data ?? "fixtures/emoji") === dataDir;
  if (done && done.ziparUnseenCosts && sameData) return { summary: done, models };
  const summary = await runFixtureDependencyAnalysis(dir, {
    split: flags.quick ? "val" : flags.split,
    workers: flags.workers,
    fixtureDir: dataDir,
    models: models.length >= 2 ? models : undefined,
  });
  summary.data = dataDir;
  await writeFileAtomic(path, JSON.stringify(summary, null, 2));
  return { summary, models };
}

/** The configurations named by `--configs` (all when absent); unknown names are a user error. */
function selectConfigs(spec: string | undefined, quick: boolean): readonly ExperimentSpec[] {
  // Quick mode leaves out the cross pairings (the tests cover that path) and runs one ZipAR and
  // one SJD decoder.
  if (!spec) return quick ? QUICK_EXPERIMENTS : EXPERIMENTS;
  const ids = spec.split(",").map((x) => x.trim()).filter((x) => x);
  const unknown = ids.filter((id) => !EXPERIMENTS.some((e) => e.id === id));
  if (unknown.length || ids.length === 0) {
    throw new UsageError(
      `--configs: unknown configuration "${unknown[0] ?? spec}". Fix: use some of ${
        EXPERIMENTS.map((e) => e.id).join(",")
      }`,
    );
  }
  return EXPERIMENTS.filter((e) => ids.includes(e.id));
}

async function experimentsSection(
  out: string,
  flags: z.infer<typeof Flags>,
  configs: readonly ExperimentSpec[],
  dataDir: string,
): Promise<{ summary: ExperimentsSummary; dir: string }> {
  const dir = `${out}/experiments${flags.quick ? "-quick" : ""}`;
  const base = flags.quick ? QUICK_SETTINGS : DEFAULT_SETTINGS;
  const summary = await runExperiments({
    ...base,
    perClass: flags.perClass ?? base.perClass,
    seed: flags.seed ?? base.seed,
    batchSize: flags.batch ?? base.batchSize,
    outDir: dir,
    modelsDir: flags.models,
    dataDir,
    configs,
    backend: flags.backend,
    threads: flags.threads,
    force: flags.force,
    retime: flags.retime,
  });
  await writeExperimentFigures(summary, dir);
  return { summary, dir };
}

/** Section 4: the video rows, into `<experiments>/video/` (skipped cleanly without models). */
async function videoSection(
  expDir: string,
  flags: z.infer<typeof Flags>,
): Promise<VideoSummary> {
  const base = flags.quick ? QUICK_VIDEO_SETTINGS : DEFAULT_VIDEO_SETTINGS;
  return await runVideoExperiments({
    ...base,
    perClass: flags.perClass ?? base.perClass,
    seed: flags.seed ?? base.seed,
    batchSize: flags.batch ?? base.batchSize,
    outDir: `${expDir}/video`,
    modelsDir: flags.models,
    backend: flags.backend,
    threads: flags.threads,
    workers: flags.workers,
    force: flags.force,
    retime: flags.retime,
  });
}

function fmt(x: number | null | undefined, digits = 2): string {
  return x === undefined || x === null || Number.isNaN(x) ? "-" : x.toFixed(digits);
}

function report(
  stats: ScheduleStats[],
  dep: DependencyAnalysisSummary,
  depDir: string,
  models: string[],
  quick: boolean,
  exp: { summary: ExperimentsSummary; dir: string },
  video: VideoSummary | null,
): string {
  const machine = `${Deno.build.os}-${Deno.build.arch}, ${navigator.hardwareConcurrency} cores`;
  const lines = [
    "# parlab analysis report",
    "",
    `Machine: ${machine}; Deno ${Deno.version.deno}.${
      quick
        ? " Quick mode (val split, no model-based maps, 1 picture per class: numbers are plumbing checks, not results)."
        : ""
    }`,
    "",
    "## Schedules on the 24x24 grid",
    "",
    "| schedule | steps | max parallel | step ratio | transition slots | adjacent pairs in a step | mean distance in a step |",
    "|---|---|---|---|---|---|---|",
    ...stats.map((s) =>
      `| ${s.name} | ${s.steps} | ${s.maxParallel} | ${
        s.stepRatio.toFixed(2)
      }x | ${s.transitionSlots} | ${s.adjacentPairsInSteps} | ${fmt(s.meanDistanceInSteps)} |`
    ),
    "",
    "![tokens against steps](schedules/steps_over_time.png)",
    "",
    `## Token dependency on the emoji fixture (${dep.data ?? "fixtures/emoji"})`,
    "",
    `${dep.samples} token grids, K = ${dep.vocabSize}, estimator: ${dep.estimator}; mean marginal entropy ` +
    `${fmt(dep.meanMarginalEntropyBits)} bits per cell; ${fmt(dep.seconds.total, 1)} s.`,
    "",
    "Mean mutual information (bits) against distance:",
    "",
    "| estimator | " +
    Object.keys(Object.values(dep.miAtDistance)[0] ?? {}).map((d) => `d = ${d}`).join(" | ") +
    " | far field (> 12) |",
    "|---|" + Object.keys(Object.values(dep.miAtDistance)[0] ?? {}).map(() => "---").join("|") +
    "|---|",
    ...Object.entries(dep.miAtDistance).map(([est, row]) =>
      `| ${est} | ${Object.values(row).map((v) => fmt(v)).join(" | ")} | ${
        fmt(dep.farFieldMi[est])
      } |`
    ),
    "",
    "Schedule dependency cost: pairwise mutual information among cells sampled in the same step, " +
    "what independent sampling inside a step ignores (bits, summed over the image):",
    "",
    "| schedule | steps | same-step pairs | total bits | bits per pair |" +
    (dep.coarseScheduleCosts ? " coarse total |" : "") +
    (dep.ziparUnseenCosts ? " pairs / bits unrelated on a raster model |" : ""),
    "|---|---|---|---|---|" + (dep.coarseScheduleCosts ? "---|" : "") +
    (dep.ziparUnseenCosts ? "---|" : ""),
    ...Object.entries(dep.scheduleCosts).map(([name, c]) => {
      const unseen = dep.ziparUnseenCosts?.[name];
      return `| ${name} | ${c.steps} | ${c.pairs} | ${fmt(c.total, 0)} | ${fmt(c.meanPerPair)} |` +
        (dep.coarseScheduleCosts ? ` ${fmt(dep.coarseScheduleCosts[name]?.total, 0)} |` : "") +
        (dep.ziparUnseenCosts
          ? ` ${unseen ? `${unseen.pairs} / ${fmt(unseen.total, 0)}` : "-"} |`
          : "");
    }),
    "",
  ];
  if (dep.ziparUnseenCosts) {
    lines.push(
      "`zipar<s>`: the steps ZipAR implies with window s (its wavefront, row r+1 starting once " +
        "row r holds s tokens), for the training-free rows of the speed/quality table. Decoded " +
        "by a raster-trained model, whose slots attend only to lower raster positions, a cell " +
        "also never relates to the cells of the rows above that are sampled after it; the last " +
        "column sums I over every such pair and the same-step ones (map: " +
        "`schedule_cost_maps_zipar`).",
      "",
    );
  }
  if (dep.increase?.length) {
    lines.push(
      `Model-based entropy increase (teacher forcing on the val split; models: ${
        models.map((m) => m.split("/").at(-1)).join(", ")
      }):`,
      "",
      "| comparison | quantity | mean increase (bits) |",
      "|---|---|---|",
      ...dep.increase.map((r) => `| ${r.label} | ${r.quantity} | ${fmt(r.meanIncreaseBits, 3)} |`),
      "",
    );
  }
  const rel = depDir.split("/").at(-1)!;
  lines.push(...dep.figures.map((f) => `![${f}](${rel}/${f})`), "");
  lines.push(experimentsMarkdown(exp.summary, exp.dir.split("/").at(-1)!));
  if (video) lines.push(videoMarkdown(video, `${exp.dir.split("/").at(-1)!}/video`));
  return lines.join("\n");
}

async function main(): Promise<void> {
  const flags = parseFlags(Deno.args, Flags, ["quick", "force", "retime", "skipVideo"], USAGE);
  const configs = selectConfigs(flags.configs, flags.quick);
  const stats = await scheduleSection(flags.out, flags.force);
  console.log(`schedules: ${stats.length} analysed`);
  // One token data set for every section: the one the models were trained on, unless --data.
  const found = await Promise.all(configs.map((c) => findModel(flags.models, c.model)));
  const dataDir = flags.data ?? await modelsDataDir(found.filter((p) => p !== null));
  console.log(`data: ${dataDir}`);
  const { summary, models } = await dependencySection(flags.out, flags, dataDir);
  console.log(`dependency: ${summary.samples} grids, ${summary.figures.length} figures`);
  const depDir = `${flags.out}/dependency${flags.quick ? "-quick" : ""}`;
  const exp = await experimentsSection(flags.out, flags, configs, dataDir);
  console.log(`experiments: ${exp.summary.rows.length} configurations in ${exp.dir}`);
  let video: VideoSummary | null = null;
  if (!flags.skipVideo) {
    video = await videoSection(exp.dir, flags);
    console.log(
      video.status === "ran"
        ? `video: ${video.rows.length} configurations in ${exp.dir}/video`
        : `video: skipped (${video.note})`,
    );
    // The video rows join the image rows' record (its `video` field).
    await writeFileAtomic(
      `${exp.dir}/experiments.json`,
      JSON.stringify({ ...exp.summary, video }, null, 1),
    );
  }
  await writeFileAtomic(
    `${flags.out}/report.md`,
    report(stats, summary, depDir, models, flags.quick, exp, video),
  );
  await writeFileAtomic(
    `${flags.out}/results.json`,
    JSON.stringify(
      {
        machine: `${Deno.build.os}-${Deno.build.arch}, ${navigator.hardwareConcurrency} cores`,
        quick: flags.quick,
        schedules: stats,
        dependency: summary,
        experiments: video ? { ...exp.summary, video } : exp.summary,
      },
      null,
      1,
    ),
  );
  console.log(`report: ${flags.out}/report.md\nnumbers: ${flags.out}/results.json`);
}

if (import.meta.main) await runMain("analyze", main);
