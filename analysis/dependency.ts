/**
 * The whole model-free dependency analysis of a token set (the emoji fixture in `deno task
 * analyze`): marginal and conditional entropy maps, mutual information by offset, against
 * distance and per class, and the dependency cost of the standard schedules; plus the
 * model-based entropy increase maps when teacher-forcing results are passed in.
 * Writes figures (SVG + PNG) and one JSON of numbers into an output folder. Token folders
 * written by `deno task tokenize` go through {@link runTokenFolderDependencyAnalysis}.
 * The command line is `main/dependency.ts` (`deno task dependency`).
 * @module
 */
import {
  type ClassDependency,
  codebookClusters,
  type CodeClusters,
  conditionalEntropyRow,
  dependencyByClass,
  type EntropyIncrease,
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
import {
  type Grid,
  makeGrid,
  par,
  randomGroups,
  raster,
  rasterGroups,
  type Schedule,
  scheduleFromJSON,
  stepOfCell,
  zipar,
} from "../src/schedule/mod.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";
import {
  cellMapsFigure,
  conditionalEntropyMapsFigure,
  distanceCurveFigure,
  entropyIncreaseFigure,
  type Figure,
  offsetMapFigure,
  saveFigure,
  scheduleCostFigure,
} from "../src/viz/mod.ts";
import {
  loadEmojiDataset,
  loadPatchTokenizer,
  loadTokenSet,
  type TokenFolder,
  type TokenFolderManifest,
} from "../src/data/mod.ts";
import { parseVqManifest, PatchKMeansTokenizer } from "../src/tokenizer/mod.ts";
import { loadNpyFile } from "../src/io/npy.ts";
import { sha256Hex } from "../src/io/hash.ts";
import { UsageError } from "../src/util/errors.ts";
import { loadOnnxModel } from "../src/model/mod.ts";
import { teacherForce } from "../src/sampler/mod.ts";
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
  /**
   * ZipAR's implied schedules (`zipar<s>`, in `scheduleCosts` too) run on a raster-trained model:
   * every pair of cells neither of which conditions on the other, i.e. the same-step pairs plus
   * each cell with the later-sampled cells of the rows above (see {@link rasterModelUnseenCost}).
   */
  ziparUnseenCosts?: Record<
    string,
    { steps: number; total: number; pairs: number; meanPerPair: number }
  >;
  perClass?: { name: string; samples: number; miAtDistance: Record<string, number> }[];
  increase?: { label: string; meanIncreaseBits: number; quantity: string }[];
  figures: string[];
  /** The token data folder analysed (set by `deno task analyze`; absent before issue 15). */
  data?: string;
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

/** What every section reads: the checked tokens, their grid, the estimator and engine options. */
interface Analysis {
  ts: TokenSet;
  grid: Grid;
  est: MiEstimator;
  seed: number;
  /** Options of every pair-engine pass. */
  engine: { workers: number; progress: boolean; shuffleSeed: number };
  /** Reference cells of the per-reference maps. */
  refs: number[];
}

/** A figure and its file name in `figures/` (without extension). */
interface NamedFigure {
  name: string;
  fig: Figure;
}

/** Section 1, fine codes: all pairs under the three estimators; `mi` is the chosen estimator's. */
interface FineCodes {
  dep: PairwiseDependency;
  mi: Float64Array;
}

async function fineCodes(a: Analysis): Promise<FineCodes> {
  const dep = await pairwiseDependency(a.ts, { ...a.engine, label: "pairs (K codes)" });
  return { dep, mi: mutualInformationMatrix(dep, a.est) };
}

/** Maps of the fine codes: marginal and conditional entropy, MI with a reference, MI by offset. */
function fineFigures(a: Analysis, fine: FineCodes): NamedFigure[] {
  const { grid, est, refs } = a;
  const dep = fine.dep;
  // The conditional maps divided by the marginal: the fraction of H(X_j) left after seeing X_ref
  // (1 = independent). Removes the background/foreground pattern of the marginal entropy.
  const h = est === "plugin" ? dep.entropy.plugin : dep.entropy["miller-madow"];
  return [{
    name: "entropy_marginal",
    fig: cellMapsFigure(
      [{ title: "H(X_j), Miller–Madow", values: dep.entropy["miller-madow"] }],
      grid,
      { legend: "marginal entropy, bits", title: "Marginal entropy per cell" },
    ),
  }, {
    name: "entropy_conditional",
    fig: conditionalEntropyMapsFigure(
      refs.map((ref) => ({ ref, values: conditionalEntropyRow(dep, ref, est) })),
      grid,
      {
        title: `Conditional entropy H(X_j | X_ref), ${est} estimator, K = ${a.ts.vocabSize} codes`,
      },
    ),
  }, {
    name: "entropy_conditional_ratio",
    fig: conditionalEntropyMapsFigure(
      refs.map((ref) => ({
        ref,
        values: conditionalEntropyRow(dep, ref, est).map((v, j) => h[j] > 0.05 ? v / h[j] : NaN),
      })),
      grid,
      {
        title: `Normalised conditional entropy H(X_j | X_ref) / H(X_j), ${est}`,
        legend: "fraction of H(X_j) left given X_ref",
        domain: [0, 1],
      },
    ),
  }, {
    name: "mi_reference",
    fig: cellMapsFigure(
      refs.map((ref) => ({
        title: `I(X_j; X_ref), ref ${Math.floor(ref / grid.width)},${ref % grid.width}`,
        values: fine.mi.slice(ref * dep.cells, (ref + 1) * dep.cells).map((v, j) =>
          j === ref ? NaN : v
        ),
        marked: [ref],
      })),
      grid,
      { legend: "mutual information, bits", title: `Mutual information with a reference (${est})` },
    ),
  }, {
    name: "mi_offset",
    fig: offsetMapFigure(meanByOffset(fine.mi, grid), {
      maxOffset: 8,
      title: `Mean I by offset (${est}, K codes)`,
    }),
  }];
}

/** Section 2, coarse codes: all pairs again with the codes k-means-clustered by codebook vector. */
interface CoarseCodes {
  clusters: CodeClusters;
  dep: PairwiseDependency;
}

async function coarseCodes(
  a: Analysis,
  codebook: DependencyAnalysisOptions["codebook"],
  groups: number,
): Promise<CoarseCodes | undefined> {
  if (!codebook) return undefined;
  const clusters = codebookClusters(codebook.data, a.ts.vocabSize, codebook.dim, groups, a.seed);
  const dep = await pairwiseDependency(a.ts, {
    ...a.engine,
    codeMap: clusters.codeMap,
    label: `pairs (${clusters.groups} clusters)`,
  });
  return { clusters, dep };
}

/** The coarse conditional-entropy maps, and MI against distance for every estimator and pass. */
function coarseFigures(a: Analysis, fine: FineCodes, coarse?: CoarseCodes): NamedFigure[] {
  const { grid, est, refs } = a;
  const out: NamedFigure[] = [];
  if (coarse) {
    out.push({
      name: "entropy_conditional_coarse",
      fig: conditionalEntropyMapsFigure(
        refs.map((ref) => ({ ref, values: conditionalEntropyRow(coarse.dep, ref, est) })),
        grid,
        {
          title:
            `Conditional entropy, ${est}, codes coarse-grained to ${coarse.clusters.groups} clusters`,
        },
      ),
    });
  }
  const passes = [{ tag: "K", dep: fine.dep }];
  if (coarse) passes.push({ tag: `G=${coarse.clusters.groups}`, dep: coarse.dep });
  const series = passes.flatMap((p) =>
    MI_ESTIMATORS.map((e) => ({
      name: `${e} (${p.tag})`,
      points: meanByDistance(mutualInformationMatrix(p.dep, e), grid, { binWidth: 1 }),
    }))
  );
  out.push({
    name: "mi_distance",
    fig: distanceCurveFigure(series, {
      title: "Mutual information against distance, by estimator",
    }),
  });
  return out;
}

/**
 * Section 3, per class (coarse codes when available: per-class samples are few); empty without
 * labels or when no class has `minRows` samples.
 */
async function perClassDependency(
  a: Analysis,
  coarse: CoarseCodes | undefined,
  minRows: number,
): Promise<ClassDependency[]> {
  if (!a.ts.labels) return [];
  return await dependencyByClass(a.ts, {
    ...a.engine,
    codeMap: coarse?.clusters.codeMap,
    minRows,
    label: "pairs",
  });
}

function classFigures(
  a: Analysis,
  classes: readonly ClassDependency[],
  coarse?: CoarseCodes,
): NamedFigure[] {
  if (classes.length === 0) return [];
  const clustered = coarse ? `, ${coarse.clusters.groups} clusters` : "";
  return [{
    name: "mi_distance_classes",
    fig: distanceCurveFigure(
      classes.map((c) => ({
        name: `${c.name} (${c.dependency.rows})`,
        points: meanByDistance(mutualInformationMatrix(c.dependency, a.est), a.grid, {
          binWidth: 1,
          maxDistance: 16,
        }),
      })),
      { title: `Mutual information against distance per class (${a.est}${clustered})` },
    ),
  }];
}

/** Section 4, the within-step MI of the standard schedules (fine, and coarse when run). */
interface ScheduleCosts {
  schedules: Schedule[];
  fine: ScheduleCost[];
  coarse?: ScheduleCost[];
  /** ZipAR's implied schedules: all pairs a raster model decoding them leaves unrelated. */
  zipar: { schedule: Schedule; unseen: ScheduleCost }[];
}

/** ZipAR windows whose implied schedules join the cost table (those below the row length). */
export const ZIPAR_COST_WINDOWS: readonly number[] = [2, 4, 8];

/**
 * The dependency a raster-trained model leaves out when it decodes `schedule` the training-free
 * way (ZipAR's `sampleZipAR`): a slot at position p attends only to sampled cells below p, so of
 * two cells a < b (raster index) b sees a only when a was sampled in an earlier step, and a never
 * sees b. Every pair with step(a) >= step(b) is thus drawn without either conditioning on the
 * other: the same-step pairs (what {@link scheduleCost} counts) plus, for ZipAR, each cell with
 * the cells of the rows above that are sampled after it. Sums I(X_a; X_b) over those pairs (bits;
 * `perCell` counts each pair at both ends, `perStep` at the later cell's step). Raster order
 * costs 0; for ZipAR with window s, the extra pairs of cell (r, c) are (r - k, c') with
 * c' > c + k * s.
 */
export function rasterModelUnseenCost(schedule: Schedule, mi: ArrayLike<number>): ScheduleCost {
  const same = scheduleCost(schedule, mi); // checks the matrix's size and the cells
  const c = same.perCell.length;
  const step = stepOfCell(schedule);
  const perStep = new Float64Array(schedule.steps.length);
  const perCell = new Float64Array(c);
  let pairs = 0;
  for (let a = 0; a < c; a++) {
    for (let b = a + 1; b < c; b++) {
      if (step[a] < step[b]) continue;
      const v = mi[a * c + b];
      perCell[a] += v;
      perCell[b] += v;
      perStep[step[a]] += v;
      pairs++;
    }
  }
  return {
    name: schedule.name,
    steps: schedule.steps.length,
    total: perStep.reduce((x, y) => x + y, 0),
    perStep,
    perCell,
    pairs,
  };
}

function scheduleCosts(a: Analysis, fine: FineCodes, coarse?: CoarseCodes): ScheduleCosts {
  const { grid } = a;
  const schedules: Schedule[] = [
    raster(grid),
    par(grid, { m: 2 }),
    par(grid, { m: 4 }),
    rasterGroups(grid, { n: 4 }),
    randomGroups(grid, { n: 4, seed: a.seed }),
  ];
  // ZipAR's wavefronts (a window of the full row is raster order).
  const ziparSchedules = ZIPAR_COST_WINDOWS.filter((w) => w < grid.width)
    .map((window) => zipar(grid, { window }));
  schedules.push(...ziparSchedules);
  const miCoarse = coarse && mutualInformationMatrix(coarse.dep, a.est);
  return {
    schedules,
    fine: schedules.map((s) => scheduleCost(s, fine.mi)),
    coarse: miCoarse && schedules.map((s) => scheduleCost(s, miCoarse)),
    zipar: ziparSchedules.map((schedule) => ({
      schedule,
      unseen: rasterModelUnseenCost(schedule, fine.mi),
    })),
  };
}

/** The cost bars, and the per-cell cost maps of PAR-4x, PAR-16x and raster groups. */
function costFigures(a: Analysis, costs: ScheduleCosts): NamedFigure[] {
  const shown = [1, 2, 3];
  return [
    {
      name: "schedule_cost",
      fig: scheduleCostFigure(costs.fine, {
        title: `Within-step pairwise mutual information (${a.est}, K codes)`,
      }),
    },
    {
      name: "schedule_cost_maps",
      fig: entropyIncreaseFigure(
        shown.map((i) => ({
          increase: costs.fine[i].perCell,
          schedule: costs.schedules[i],
          title: `${costs.schedules[i].name}: Σ I with same-step cells`,
        })),
        a.grid,
        {
          legend: "Σ_k I(X_j; X_k) over same-step cells k, bits",
          title: "Model-free cost map: dependency each cell loses to its own step (labels: steps)",
          scheme: "reds",
          reverse: false,
          pivot: undefined,
          domain: [0, Math.max(...shown.flatMap((i) => Array.from(costs.fine[i].perCell)))],
          cellSize: 20,
        },
      ),
    },
    ...(costs.zipar.length === 0 ? [] : [{
      name: "schedule_cost_maps_zipar",
      fig: entropyIncreaseFigure(
        costs.zipar.map(({ schedule, unseen }) => ({
          increase: unseen.perCell,
          schedule,
          title: `${schedule.name}: Σ I with cells it never relates to`,
        })),
        a.grid,
        {
          legend: "Σ_k I(X_j; X_k) over cells k neither conditioned on, bits",
          title: "ZipAR on a raster model: dependency each cell leaves out (same step, or a " +
            "later-sampled cell of a row above; labels: steps)",
          scheme: "reds",
          reverse: false,
          pivot: undefined,
          domain: [0, Math.max(...costs.zipar.flatMap((z) => Array.from(z.unseen.perCell)))],
          cellSize: 20,
        },
      ),
    }]),
  ];
}

/** Section 5, model-based: the increase of each other result over the base, per quantity both have. */
interface Increases {
  quantity: "entropy" | "nll";
  incs: EntropyIncrease[];
  others: CellEntropyResult[];
}

function modelIncreases(increase: DependencyAnalysisOptions["increase"]): Increases[] {
  if (!increase) return [];
  const { base, others } = increase;
  return (["entropy", "nll"] as const)
    .filter((quantity) => base[quantity] && others.every((o) => o[quantity]))
    .map((quantity) => ({
      quantity,
      incs: others.map((o) => entropyIncrease(base, o, { quantity })),
      others,
    }));
}

function increaseFigures(a: Analysis, increases: readonly Increases[]): NamedFigure[] {
  return increases.map(({ quantity, incs, others }) => {
    const what = quantity === "nll" ? "NLL" : "predictive entropy";
    return {
      name: quantity === "nll" ? "entropy_increase_nll" : "entropy_increase",
      fig: entropyIncreaseFigure(
        incs.map((inc, k) => ({
          increase: inc.increase,
          schedule: others[k].schedule,
          title: `${inc.labels.other} − ${inc.labels.base} (mean ${inc.meanIncrease.toFixed(3)})`,
        })),
        a.grid,
        {
          title: `Increase of ${what} per cell, model-based (labels: step numbers)`,
          legend: `${what} increase, bits`,
        },
      ),
    };
  });
}

/** Mean I at the headline distances and in the far field, per estimator and pass. */
function estimatorNumbers(
  grid: Grid,
  fine: FineCodes,
  coarse?: CoarseCodes,
): Pick<DependencyAnalysisSummary, "miAtDistance" | "farFieldMi"> {
  const miAtDistance: Record<string, Record<string, number>> = {};
  const farFieldMi: Record<string, number> = {};
  for (const e of MI_ESTIMATORS) {
    for (const [tag, dep] of [["K", fine.dep], ["G", coarse?.dep]] as const) {
      if (!dep) continue;
      const mi = mutualInformationMatrix(dep, e);
      miAtDistance[`${e} (${tag})`] = atDistances(mi, grid);
      farFieldMi[`${e} (${tag})`] = farField(mi, grid);
    }
  }
  return { miAtDistance, farFieldMi };
}

/** The JSON table of schedule costs. */
function costTable(
  costs: readonly ScheduleCost[],
): Record<string, { steps: number; total: number; pairs: number; meanPerPair: number }> {
  return Object.fromEntries(
    costs.map((c) => [c.name, {
      steps: c.steps,
      total: round(c.total, 3),
      pairs: c.pairs,
      meanPerPair: round(c.pairs ? c.total / c.pairs : 0),
    }]),
  );
}

/** Save figures as `figures/<name>.{svg,png}` under `outDir`; returns the PNG paths, relative. */
async function saveFigures(outDir: string, figures: readonly NamedFigure[]): Promise<string[]> {
  for (const { name, fig } of figures) await saveFigure(fig, `${outDir}/figures/${name}`);
  return figures.map((f) => `figures/${f.name}.png`);
}

/**
 * Run the dependency analysis and write figures plus `dependency.json` into `outDir`: the
 * sections are computed first (timed), then drawn, then written.
 * @example
 * await runDependencyAnalysis({ tokens, codebook: { data: book, dim: 12 }, outDir: "results" });
 */
export async function runDependencyAnalysis(
  options: DependencyAnalysisOptions,
): Promise<DependencyAnalysisSummary> {
  const t0 = performance.now();
  const ts = validateTokenSet(options.tokens);
  const grid = makeGrid(ts.grid.height, ts.grid.width, ts.grid.frames ?? 1);
  const seed = options.seed ?? 0;
  const a: Analysis = {
    ts,
    grid,
    est: options.estimator ?? "shuffle",
    seed,
    engine: {
      workers: options.workers ?? 2,
      progress: options.progress ?? true,
      shuffleSeed: seed,
    },
    refs: options.refs ?? defaultRefs(grid.height, grid.width),
  };

  const fine = await fineCodes(a);
  const tFine = performance.now();
  const coarse = await coarseCodes(a, options.codebook, options.groups ?? 32);
  const tCoarse = performance.now();
  const classes = await perClassDependency(a, coarse, options.minClassRows ?? 200);
  const tClasses = performance.now();
  const costs = scheduleCosts(a, fine, coarse);
  const increases = modelIncreases(options.increase);

  const figures = await saveFigures(options.outDir, [
    ...fineFigures(a, fine),
    ...coarseFigures(a, fine, coarse),
    ...classFigures(a, classes, coarse),
    ...costFigures(a, costs),
    ...increaseFigures(a, increases),
  ]);
  const summary: DependencyAnalysisSummary = {
    samples: fine.dep.rows,
    vocabSize: ts.vocabSize,
    coarseGroups: coarse?.clusters.groups,
    estimator: a.est,
    seconds: {
      fine: round((tFine - t0) / 1000, 2),
      coarse: coarse ? round((tCoarse - tFine) / 1000, 2) : undefined,
      classes: classes.length ? round((tClasses - tCoarse) / 1000, 2) : undefined,
      total: round((performance.now() - t0) / 1000, 2),
    },
    meanMarginalEntropyBits: round(
      fine.dep.entropy["miller-madow"].reduce((x, y) => x + y, 0) / fine.dep.cells,
      4,
    ),
    ...estimatorNumbers(grid, fine, coarse),
    scheduleCosts: costTable(costs.fine),
    coarseScheduleCosts: costs.coarse && costTable(costs.coarse),
    ziparUnseenCosts: costs.zipar.length ? costTable(costs.zipar.map((z) => z.unseen)) : undefined,
    perClass: classes.length
      ? classes.map((c) => ({
        name: c.name,
        samples: c.dependency.rows,
        miAtDistance: atDistances(mutualInformationMatrix(c.dependency, a.est), grid),
      }))
      : undefined,
    increase: options.increase
      ? increases.flatMap(({ incs }) =>
        incs.map((i) => ({
          label: `${i.labels.other} − ${i.labels.base}`,
          meanIncreaseBits: round(i.meanIncrease),
          quantity: i.quantity,
        }))
      )
      : undefined,
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

/** Options of {@link runTokenFolderDependencyAnalysis}. */
export interface TokenFolderDependencyOptions {
  /** Worker count for the pair engine (default 2). */
  workers?: number;
  /** Show progress bars on stderr (default true). */
  progress?: boolean;
  /** Coarse clusters G (default 32). */
  groups?: number;
}

/** {@link DependencyAnalysisSummary} of a token folder, with where it came from and notes. */
export interface TokenFolderDependencySummary extends DependencyAnalysisSummary {
  /** The token folder and its tokenizer. */
  source: { tokens: string; tokenizer: TokenFolderManifest["tokenizer"]; classes: number };
  /** What was left out and why (e.g. the coarse pass without a codebook). */
  notes: string[];
}

/** Codebook vectors for the coarse pass, or why there are none. */
export interface FolderCodebook {
  codebook?: { data: ArrayLike<number>; dim: number };
  note?: string;
}

/**
 * The codebook vectors of the tokenizer a token folder names, for the coarse-grained pass: a
 * patch k-means codebook's patches, or the embeddings a VQ tokenizer manifest lists under an
 * optional `"codebook"` field (an `.npy` float32/float64 `[K, embedDim]` beside the manifest,
 * sha256-checked when `files` lists it). Without them (the file is gone or changed, or the VQ
 * manifest has no such field) the result carries a note instead.
 */
export async function tokenFolderCodebook(m: TokenFolderManifest): Promise<FolderCodebook> {
  const t = m.tokenizer;
  const skip = (why: string): FolderCodebook => ({
    note: `coarse-grained pass skipped: ${why}; the results on the ${m.vocabSize} fine codes are ` +
      "complete",
  });
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(t.path);
  } catch (err) {
    return skip(`the tokenizer file ${t.path} cannot be read (${(err as Error).message})`);
  }
  if (await sha256Hex(bytes) !== t.sha256) {
    return skip(`the tokenizer file ${t.path} changed since the tokens were written (sha256)`);
  }
  if (t.kind === "patch-kmeans") {
    const tok = PatchKMeansTokenizer.fromBytes(bytes, t.path);
    if (tok.vocabSize !== m.vocabSize) {
      return skip(`the codebook has ${tok.vocabSize} codes, the tokens ${m.vocabSize}`);
    }
    return { codebook: { data: tok.codebook, dim: tok.downsample * tok.downsample * 3 } };
  }
  if (t.kind !== "vq") return skip(`tokenizer kind "${t.kind}" has no known codebook`);
  const json = JSON.parse(new TextDecoder().decode(bytes));
  const vq = parseVqManifest(json, t.path);
  const field = (json as { codebook?: unknown }).codebook;
  const rel = typeof field === "string"
    ? field
    : typeof (field as { path?: unknown })?.path === "string"
    ? (field as { path: string }).path
    : null;
  if (!rel) {
    return skip(
      `the VQ tokenizer manifest ${vq.name} provides no codebook embeddings (an optional ` +
        `"codebook": "<file>.npy", float32 [${vq.codebookSize}, ${vq.embedDim}])`,
    );
  }
  const url = new URL(rel, new URL(`file://${t.path}`));
  const listed = vq.files.find((f) => f.path === rel);
  if (listed) {
    const got = await sha256Hex(await Deno.readFile(url));
    if (got !== listed.sha256) return skip(`${rel} does not match its sha256 in the manifest`);
  }
  const array = await loadNpyFile(url);
  const [k, dim] = array.shape;
  if (
    (array.dtype !== "float32" && array.dtype !== "float64") || array.shape.length !== 2 ||
    k !== m.vocabSize
  ) {
    return skip(
      `${rel} is ${array.dtype} (${array.shape.join(", ")}), not float [${m.vocabSize}, dim]`,
    );
  }
  return { codebook: { data: array.data as Float32Array | Float64Array, dim } };
}

/**
 * The dependency analysis of a token folder as `deno task tokenize` writes it (`manifest.json`,
 * `tokens.npy`, `labels.npy`; its path, or the folder `loadTokenSet` read):
 * {@link runDependencyAnalysis} on its grids, per class when it
 * has more than one class, coarse-grained with the tokenizer's codebook where there is one
 * (else skipped, with a note). `dependency.json` also records the source and the notes.
 * @example
 * const s = await runTokenFolderDependencyAnalysis("out/tokens", "results/dependency-imagenet");
 */
export async function runTokenFolderDependencyAnalysis(
  tokens: string | URL | TokenFolder,
  outDir: string,
  options: TokenFolderDependencyOptions = {},
): Promise<TokenFolderDependencySummary> {
  const set = typeof tokens === "string" || tokens instanceof URL
    ? await loadTokenSet(tokens)
    : tokens;
  const found = await tokenFolderCodebook(set.manifest);
  const classes = set.classNames.length;
  const summary = await runDependencyAnalysis({
    tokens: {
      tokens: set.tokens,
      count: set.count,
      grid: set.grid,
      vocabSize: set.vocabSize,
      ...(classes > 1 ? { labels: set.labels, classNames: set.classNames } : {}),
    },
    codebook: found.codebook,
    groups: options.groups,
    outDir,
    workers: options.workers,
    progress: options.progress,
  });
  const out: TokenFolderDependencySummary = {
    ...summary,
    source: {
      tokens: decodeURIComponent(set.dir.pathname),
      tokenizer: set.manifest.tokenizer,
      classes,
    },
    notes: found.note ? [found.note] : [],
  };
  await writeFileAtomic(`${outDir}/dependency.json`, JSON.stringify(out, null, 2));
  return out;
}
