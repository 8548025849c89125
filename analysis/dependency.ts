/**
 * The whole model-free dependency analysis of a token set (the emoji fixture in `deno task
 * analyze`): marginal and conditional entropy maps, mutual information by offset, against
 * distance and per class, and the dependency cost of the standard schedules; plus the
 * model-based entropy increase maps when teacher-forcing results are passed in.
 * Writes figures (SVG + PNG) and one JSON of numbers into an output folder.
 * The command line is `main/dependency.ts` (`deno task dependency`).
 * @module
 */
import {
  codebookClusters,
  conditionalEntropyRow,
  dependencyByClass,
  entropyIncrease,
  meanByDistance,
  meanByOffset,
  MI_ESTIMATORS,
  type MiEstimator,
  mutualInformationMatrix,
  type PairwiseDependency,
  pairwiseDependency,
  type ScheduleCost,
  scheduleCost,
  type TokenSet,
  validateTokenSet,
} from "../src/entropy/mod.ts";
import type { CellEntropyResult } from "../src/entropy/increase.ts";
import { makeGrid, par, randomGroups, raster, rasterGroups } from "../src/schedule/mod.ts";
import type { Schedule } from "../src/schedule/mod.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";
import {
  cellMapsFigure,
  conditionalEntropyMapsFigure,
  distanceCurveFigure,
  entropyIncreaseFigure,
  offsetMapFigure,
  scheduleCostFigure,
} from "../src/viz/entropy_maps.ts";
import { type Figure, saveFigure } from "../src/viz/render.ts";
import { loadEmojiDataset, loadPatchTokenizer } from "../src/data/mod.ts";
import { UsageError } from "../src/util/errors.ts";
import { loadOnnxModel } from "../src/model/mod.ts";
import { teacherForce } from "../src/sampler/mod.ts";
import { scheduleFromJSON } from "../src/schedule/mod.ts";
import { fromTeacherForcing } from "../src/entropy/mod.ts";
import { progress as progressBar } from "../src/util/progress.ts";

/** Inputs and knobs of {@link runDependencyAnalysis}. */
export interface DependencyAnalysisOptions {
  /** Token grids (labels and classNames enable the per-class curves). */
  tokens: TokenSet;
  /** Folder for `figures/` and `dependency.json` (created when missing). */
  outDir: string;
  /** Codebook vectors [K, dim] for coarse-graining; without it the coarse pass is skipped. */
  codebook?: { data: ArrayLike<number>; dim: number };
  /** Coarse clusters G (default 32). */
  groups?: number;
  /** Reference cells of the conditional-entropy maps (default: four spread over the grid). */
  refs?: number[];
  /** Estimator of the headline numbers, costs and maps (default "shuffle"). */
  estimator?: MiEstimator;
  /** Seed of the shuffles, k-means and random groups (default 0). */
  seed?: number;
  /** Smallest class analysed on its own (default 200 samples). */
  minClassRows?: number;
  /** Worker count for the pair engine (default 2). */
  workers?: number;
  /** Show progress bars on stderr (default true). */
  progress?: boolean;
  /** Model-based results: a sequential base and parallel others on the same val tokens. */
  increase?: { base: CellEntropyResult; others: CellEntropyResult[] };
}

/** Headline numbers of the analysis (also written to dependency.json). */
export interface DependencyAnalysisSummary {
  samples: number;
  vocabSize: number;
  coarseGroups?: number;
  estimator: MiEstimator;
  seconds: { fine: number; coarse?: number; classes?: number; total: number };
  meanMarginalEntropyBits: number;
  /** Mean I at distance 1, 2, 4, 8, 16 (exact distances, straight offsets), by estimator. */
  miAtDistance: Record<string, Record<string, number>>;
  /** Mean I over pairs beyond distance 12 by estimator (should be ≈ 0 after correction). */
  farFieldMi: Record<string, number>;
  scheduleCosts: Record<
    string,
    { steps: number; total: number; pairs: number; meanPerPair: number }
  >;
  coarseScheduleCosts?: Record<string, { total: number; meanPerPair: number }>;
  perClass?: { name: string; samples: number; miAtDistance: Record<string, number> }[];
  increase?: { label: string; meanIncreaseBits: number; quantity: string }[];
  figures: string[];
}

/**
 * The four default reference cells: the centre, an upper-left interior cell, a lower-right one
 * and one right of centre (on 24 x 24: (12,12), (6,6), (18,20), (9,16)); interior cells, since
 * border cells of the emoji are nearly always background and carry little information.
 */
function defaultRefs(h: number, w: number): number[] {
  const cell = (r: number, c: number) => Math.min(h - 1, r) * w + Math.min(w - 1, c);
  return [
    cell(Math.floor(h / 2), Math.floor(w / 2)),
    cell(Math.floor(h / 4), Math.floor(w / 4)),
    cell(Math.floor((3 * h) / 4), Math.floor((5 * w) / 6)),
    cell(Math.floor((3 * h) / 8), Math.floor((2 * w) / 3)),
  ];
}

/** Mean I at straight distances d ∈ {1, 2, 4, 8, 16} (exact distances only). */
function atDistances(mi: Float64Array, grid: Schedule["grid"]): Record<string, number> {
  const curve = meanByDistance(mi, grid);
  const out: Record<string, number> = {};
  for (const d of [1, 2, 4, 8, 16]) {
    const p = curve.find((x) => Math.abs(x.distance - d) < 1e-9);
    if (p) out[String(d)] = round(p.mean);
  }
  return out;
}

function farField(mi: Float64Array, grid: Schedule["grid"]): number {
  const curve = meanByDistance(mi, grid).filter((p) => p.distance > 12);
  const pairs = curve.reduce((a, p) => a + p.pairs, 0);
  return round(curve.reduce((a, p) => a + p.mean * p.pairs, 0) / Math.max(1, pairs));
}

function round(x: number, digits = 5): number {
  return Number(x.toFixed(digits));
}

/**
 * Run the dependency analysis and write figures plus `dependency.json` into `outDir`.
 * @example
 * await runDependencyAnalysis({ tokens, codebook: { data: book, dim: 12 }, outDir: "results" });
 */
export async function runDependencyAnalysis(
  options: DependencyAnalysisOptions,
): Promise<DependencyAnalysisSummary> {
  const t0 = performance.now();
  const ts = validateTokenSet(options.tokens);
  const grid = makeGrid(ts.grid.height, ts.grid.width, ts.grid.frames ?? 1);
  const est = options.estimator ?? "shuffle";
  const seed = options.seed ?? 0;
  const common = {
    workers: options.workers ?? 2,
    progress: options.progress ?? true,
    shuffleSeed: seed,
  };
  const figDir = `${options.outDir}/figures`;
  const figures: string[] = [];
  const save = async (fig: Figure, name: string) => {
    await saveFigure(fig, `${figDir}/${name}`);
    figures.push(`figures/${name}.png`);
  };

  // 1. Fine codes: all pairs, three estimators.
  const fine = await pairwiseDependency(ts, { ...common, label: "pairs (K codes)" });
  const tFine = performance.now();
  const refs = options.refs ?? defaultRefs(grid.height, grid.width);
  await save(
    cellMapsFigure(
      [{ title: "H(X_j), Miller–Madow", values: fine.entropy["miller-madow"] }],
      grid,
      { legend: "marginal entropy, bits", title: "Marginal entropy per cell" },
    ),
    "entropy_marginal",
  );
  await save(
    conditionalEntropyMapsFigure(
      refs.map((ref) => ({ ref, values: conditionalEntropyRow(fine, ref, est) })),
      grid,
      { title: `Conditional entropy H(X_j | X_ref), ${est} estimator, K = ${ts.vocabSize} codes` },
    ),
    "entropy_conditional",
  );
  // The same maps divided by the marginal: the fraction of H(X_j) left after seeing X_ref
  // (1 = independent). Removes the background/foreground pattern of the marginal entropy.
  const hFine = est === "plugin" ? fine.entropy.plugin : fine.entropy["miller-madow"];
  await save(
    conditionalEntropyMapsFigure(
      refs.map((ref) => ({
        ref,
        values: conditionalEntropyRow(fine, ref, est).map((v, j) =>
          hFine[j] > 0.05 ? v / hFine[j] : NaN
        ),
      })),
      grid,
      {
        title: `Normalised conditional entropy H(X_j | X_ref) / H(X_j), ${est}`,
        legend: "fraction of H(X_j) left given X_ref",
        domain: [0, 1],
      },
    ),
    "entropy_conditional_ratio",
  );
  const miFine = mutualInformationMatrix(fine, est);
  await save(
    cellMapsFigure(
      refs.map((ref) => ({
        title: `I(X_j; X_ref), ref ${Math.floor(ref / grid.width)},${ref % grid.width}`,
        values: miFine.slice(ref * fine.cells, (ref + 1) * fine.cells).map((v, j) =>
          j === ref ? NaN : v
        ),
        marked: [ref],
      })),
      grid,
      { legend: "mutual information, bits", title: `Mutual information with a reference (${est})` },
    ),
    "mi_reference",
  );
  await save(
    offsetMapFigure(meanByOffset(miFine, grid), {
      maxOffset: 8,
      title: `Mean I by offset (${est}, K codes)`,
    }),
    "mi_offset",
  );

  // 2. Coarse codes (k-means of the codebook vectors).
  let coarse: PairwiseDependency | undefined;
  let coarseGroups: number | undefined;
  let tCoarse = tFine;
  const clusters = options.codebook
    ? codebookClusters(
      options.codebook.data,
      ts.vocabSize,
      options.codebook.dim,
      options.groups ?? 32,
      seed,
    )
    : undefined;
  if (clusters) {
    coarseGroups = clusters.groups;
    coarse = await pairwiseDependency(ts, {
      ...common,
      codeMap: clusters.codeMap,
      label: `pairs (${clusters.groups} clusters)`,
    });
    tCoarse = performance.now();
    await save(
      conditionalEntropyMapsFigure(
        refs.map((ref) => ({ ref, values: conditionalEntropyRow(coarse!, ref, est) })),
        grid,
        {
          title: `Conditional entropy, ${est}, codes coarse-grained to ${clusters.groups} clusters`,
        },
      ),
      "entropy_conditional_coarse",
    );
  }
  const series = MI_ESTIMATORS.map((e) => ({
    name: `${e} (K)`,
    points: meanByDistance(mutualInformationMatrix(fine, e), grid, { binWidth: 1 }),
  }));
  if (coarse) {
    for (const e of MI_ESTIMATORS) {
      series.push({
        name: `${e} (G=${coarseGroups})`,
        points: meanByDistance(mutualInformationMatrix(coarse, e), grid, { binWidth: 1 }),
      });
    }
  }
  await save(
    distanceCurveFigure(series, { title: "Mutual information against distance, by estimator" }),
    "mi_distance",
  );

  // 3. Per class (coarse codes when available: per-class samples are few).
  let perClass: DependencyAnalysisSummary["perClass"];
  let tClasses = tCoarse;
  if (ts.labels) {
    const codeMap = clusters?.codeMap;
    const classes = await dependencyByClass(ts, {
      ...common,
      codeMap,
      minRows: options.minClassRows ?? 200,
      label: "pairs",
    });
    tClasses = performance.now();
    if (classes.length > 0) {
      perClass = classes.map((c) => ({
        name: c.name,
        samples: c.dependency.rows,
        miAtDistance: atDistances(mutualInformationMatrix(c.dependency, est), grid),
      }));
      await save(
        distanceCurveFigure(
          classes.map((c) => ({
            name: `${c.name} (${c.dependency.rows})`,
            points: meanByDistance(mutualInformationMatrix(c.dependency, est), grid, {
              binWidth: 1,
              maxDistance: 16,
            }),
          })),
          {
            title: `Mutual information against distance per class (${est}${
              codeMap ? `, ${coarseGroups} clusters` : ""
            })`,
          },
        ),
        "mi_distance_classes",
      );
    }
  }

  // 4. Schedule dependency cost.
  const schedules: Schedule[] = [
    raster(grid),
    par(grid, { m: 2 }),
    par(grid, { m: 4 }),
    rasterGroups(grid, { n: 4 }),
    randomGroups(grid, { n: 4, seed }),
  ];
  const costs = schedules.map((s) => scheduleCost(s, miFine));
  await save(
    scheduleCostFigure(costs, {
      title: `Within-step pairwise mutual information (${est}, K codes)`,
    }),
    "schedule_cost",
  );
  const shown = [1, 2, 3];
  await save(
    entropyIncreaseFigure(
      shown.map((i) => ({
        increase: costs[i].perCell,
        schedule: schedules[i],
        title: `${schedules[i].name}: Σ I with same-step cells`,
      })),
      grid,
      {
        legend: "Σ_k I(X_j; X_k) over same-step cells k, bits",
        title: "Model-free cost map: dependency each cell loses to its own step (labels: steps)",
        scheme: "reds",
        reverse: false,
        pivot: undefined,
        domain: [0, Math.max(...shown.flatMap((i) => Array.from(costs[i].perCell)))],
        cellSize: 20,
      },
    ),
    "schedule_cost_maps",
  );
  const costTable = (cs: ScheduleCost[]) =>
    Object.fromEntries(
      cs.map((c) => [c.name, {
        steps: c.steps,
        total: round(c.total, 3),
        pairs: c.pairs,
        meanPerPair: round(c.pairs ? c.total / c.pairs : 0),
      }]),
    );
  const coarseCosts = coarse
    ? costTable(schedules.map((s) => scheduleCost(s, mutualInformationMatrix(coarse!, est))))
    : undefined;

  // 5. Model-based increase maps, when given.
  let increase: DependencyAnalysisSummary["increase"];
  if (options.increase) {
    const { base, others } = options.increase;
    increase = [];
    for (const quantity of ["entropy", "nll"] as const) {
      if (!base[quantity] || others.some((o) => !o[quantity])) continue;
      const incs = others.map((o) => entropyIncrease(base, o, { quantity }));
      increase.push(...incs.map((i) => ({
        label: `${i.labels.other} − ${i.labels.base}`,
        meanIncreaseBits: round(i.meanIncrease),
        quantity: i.quantity,
      })));
      const what = quantity === "nll" ? "NLL" : "predictive entropy";
      await save(
        entropyIncreaseFigure(
          incs.map((inc, k) => ({
            increase: inc.increase,
            schedule: others[k].schedule,
            title: `${inc.labels.other} − ${inc.labels.base} (mean ${inc.meanIncrease.toFixed(3)})`,
          })),
          grid,
          {
            title: `Increase of ${what} per cell, model-based (labels: step numbers)`,
            legend: `${what} increase, bits`,
          },
        ),
        quantity === "nll" ? "entropy_increase_nll" : "entropy_increase",
      );
    }
  }

  const miAtDistance: Record<string, Record<string, number>> = {};
  const farFieldMi: Record<string, number> = {};
  for (const e of MI_ESTIMATORS) {
    miAtDistance[`${e} (K)`] = atDistances(mutualInformationMatrix(fine, e), grid);
    farFieldMi[`${e} (K)`] = farField(mutualInformationMatrix(fine, e), grid);
    if (coarse) {
      miAtDistance[`${e} (G)`] = atDistances(mutualInformationMatrix(coarse, e), grid);
      farFieldMi[`${e} (G)`] = farField(mutualInformationMatrix(coarse, e), grid);
    }
  }
  const tEnd = performance.now();
  const summary: DependencyAnalysisSummary = {
    samples: fine.rows,
    vocabSize: ts.vocabSize,
    coarseGroups,
    estimator: est,
    seconds: {
      fine: round((tFine - t0) / 1000, 2),
      coarse: coarse ? round((tCoarse - tFine) / 1000, 2) : undefined,
      classes: perClass ? round((tClasses - tCoarse) / 1000, 2) : undefined,
      total: round((tEnd - t0) / 1000, 2),
    },
    meanMarginalEntropyBits: round(
      fine.entropy["miller-madow"].reduce((a, b) => a + b, 0) / fine.cells,
      4,
    ),
    miAtDistance,
    farFieldMi,
    scheduleCosts: costTable(costs),
    coarseScheduleCosts: coarseCosts,
    perClass,
    increase,
    figures,
  };
  await writeFileAtomic(`${options.outDir}/dependency.json`, JSON.stringify(summary, null, 2));
  return summary;
}

/** Options of {@link runFixtureDependencyAnalysis}. */
export interface FixtureDependencyOptions {
  /** Which split of the emoji fixture (default "train": more samples, less estimator bias). */
  split?: "train" | "val";
  /** Fixture folder (default: the committed fixtures/emoji). */
  fixtureDir?: string | URL;
  /** Worker count for the pair engine (default 2). */
  workers?: number;
  /** Show progress bars on stderr (default true). */
  progress?: boolean;
  /** Model-based results to draw increase maps from (see {@link DependencyAnalysisOptions}). */
  increase?: DependencyAnalysisOptions["increase"];
  /**
   * Model manifests to teacher-force on the val split instead: the first is the sequential
   * base (e.g. tiny-raster.json), the rest are compared with it. Ignored when `increase` is set.
   */
  models?: (string | URL)[];
}

/**
 * Teacher-force each model under its own trained schedule on token grids and return per-cell
 * predictive entropy and NLL (bits), ready for `entropyIncrease`.
 * @example
 * const [base, par4] = await modelEntropyResults(["m/tiny-raster.json", "m/tiny-par4.json"], val);
 */
export async function modelEntropyResults(
  manifests: readonly (string | URL)[],
  data: { tokens: ArrayLike<number>; labels: ArrayLike<number> },
  options: { batchSize?: number; progress?: boolean } = {},
): Promise<CellEntropyResult[]> {
  const out: CellEntropyResult[] = [];
  for (const where of manifests) {
    const model = await loadOnnxModel(where);
    try {
      const m = model.manifest;
      if (!m.schedule) {
        throw new UsageError(
          `${String(where)}: the manifest names no trained schedule; teacher forcing needs one`,
        );
      }
      const schedule = scheduleFromJSON(m.schedule);
      const bar = options.progress ?? true
        ? progressBar(`teacher forcing ${m.name}`, data.labels.length)
        : undefined;
      const tf = await teacherForce(model, schedule, data.tokens, data.labels, {
        batchSize: options.batchSize ?? 16,
        onProgress: (done) => bar?.update(done),
      });
      bar?.stop();
      out.push(fromTeacherForcing(tf, schedule, m.name));
    } finally {
      await model.dispose();
    }
  }
  return out;
}

/**
 * The dependency analysis of the committed emoji fixture: loads tokens, labels and the codebook
 * (for the 32-cluster coarse pass) and runs {@link runDependencyAnalysis} into `outDir`.
 * About 30 s on 2 cores for the train split (6,792 grids).
 * @example
 * const summary = await runFixtureDependencyAnalysis("results/dependency");
 */
export async function runFixtureDependencyAnalysis(
  outDir: string,
  options: FixtureDependencyOptions = {},
): Promise<DependencyAnalysisSummary> {
  const split = options.split ?? "train";
  const ds = options.fixtureDir
    ? await loadEmojiDataset(split, options.fixtureDir)
    : await loadEmojiDataset(split);
  const tok = options.fixtureDir
    ? await loadPatchTokenizer(options.fixtureDir)
    : await loadPatchTokenizer();
  let increase = options.increase;
  if (!increase && options.models && options.models.length >= 2) {
    // Model-based maps always use the val split: the models were trained on train.
    const val = options.fixtureDir
      ? await loadEmojiDataset("val", options.fixtureDir)
      : await loadEmojiDataset("val");
    const results = await modelEntropyResults(options.models, val, {
      progress: options.progress,
    });
    increase = { base: results[0], others: results.slice(1) };
  }
  return await runDependencyAnalysis({
    tokens: {
      tokens: ds.tokens,
      count: ds.n,
      grid: { height: ds.height, width: ds.width },
      vocabSize: ds.vocabSize,
      labels: ds.labels,
      classNames: ds.classNames,
    },
    codebook: { data: tok.codebook, dim: tok.downsample * tok.downsample * 3 },
    outDir,
    workers: options.workers,
    progress: options.progress,
    increase,
  });
}
