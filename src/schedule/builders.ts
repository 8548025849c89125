/**
 * Schedule builders: raster, PAR (region-aligned parallel groups), naive raster groups, PAR
 * without initial sequential tokens, random groups, and custom step lists.
 *
 * Names follow the model configurations of python/: `raster`, `par4`, `par16`, `raster4`,
 * `par4-causal`, `par4-noinit`, so a schedule and the model trained on it share a name.
 * @module
 */
import { Rng } from "../util/rng.ts";
import { z } from "../deps/zod.ts";
import { ConfigError } from "../util/errors.ts";
import { cellCount, cellIndex, type Grid, GridSchema } from "../media/grid.ts";
import {
  describeGrid,
  impliedTransitionSlots,
  type Schedule,
  type Step,
  type StepAttention,
  validateSchedule,
} from "./schedule.ts";

/** Options of {@link par} and {@link parWithoutInitial}. */
export interface ParOptions {
  /** Regions per side: the grid is cut into m x m regions and n = m*m cells are sampled a step. */
  m: number;
  /** Attention among a parallel step's slots: `full` (PAR) or `causal` (the ablation). */
  attention?: StepAttention;
}

/** Options of {@link rasterGroups}. */
export interface RasterGroupsOptions {
  /** Consecutive raster cells sampled per step. */
  n: number;
  /** Attention among a step's slots. Default `full`, as PAR. */
  attention?: StepAttention;
  /**
   * Sample the first n cells one at a time before the groups (default true), the same layout
   * and step count as PAR with n parallel tokens, so the two differ only in which cells group.
   */
  initial?: boolean;
}

/** Options of {@link randomGroups}. */
export interface RandomGroupsOptions {
  /** Cells per parallel step; the step sizes copy PAR's (n initial single steps, then groups). */
  n: number;
  /** Seed of the shuffle. */
  seed: number;
  /** Attention among a step's slots. Default `full`. */
  attention?: StepAttention;
}

const attentionSchema = z.enum(["full", "causal"]);

function checkGrid(grid: Grid): Grid {
  const parsed = GridSchema.safeParse(grid);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`grid.${issue.path.join(".")}`, issue.message, "use makeGrid(H, W, F)");
  }
  return parsed.data;
}

function checkInt(field: string, value: unknown, fix: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(field, `must be a positive integer, got ${String(value)}`, fix);
  }
  return value;
}

/** Cells per step: a positive integer no larger than the grid. */
function checkGroupSize(grid: Grid, value: unknown): number {
  const n = checkInt("n", value, "pass the cells per step, e.g. n: 4");
  const total = cellCount(grid);
  if (n > total) {
    throw new ConfigError(
      "n",
      `${n} is larger than the ${total} cells of the grid`,
      `choose n <= ${total}`,
    );
  }
  return n;
}

function checkAttention(value: unknown): StepAttention {
  if (value === undefined) return "full";
  const parsed = attentionSchema.safeParse(value);
  if (!parsed.success) {
    throw new ConfigError(
      "attention",
      `must be "full" or "causal", got ${String(value)}`,
      'pass "full" (PAR) or "causal"',
    );
  }
  return parsed.data;
}

function finish(
  name: string,
  grid: Grid,
  groups: number[][],
  attention: StepAttention,
  regions?: { rows: number; cols: number },
): Schedule {
  const steps: Step[] = groups.map((cells) => ({ cells, attention }));
  return validateSchedule({
    version: 1,
    name,
    grid,
    transitionSlots: impliedTransitionSlots(groups.map((g) => g.length)),
    steps,
    ...(regions ? { regions } : {}),
  });
}

/** Every cell in raster order: frame by frame, row by row. */
function rasterOrder(grid: Grid): number[] {
  return Array.from({ length: cellCount(grid) }, (_, i) => i);
}

/**
 * Raster token-by-token: one cell a step (LlamaGen). 24x24 -> 576 steps.
 * @example
 * raster(makeGrid(24, 24)).steps.length; // 576
 */
export function raster(grid: Grid): Schedule {
  const g = checkGrid(grid);
  return finish("raster", g, rasterOrder(g).map((c) => [c]), "causal");
}

/**
 * PAR's region-aligned order, flattened: for each in-region position k (raster inside the
 * region; frame-major for video), for each region r (raster over regions): v_k^(r).
 * Regions are spatial and span all frames.
 */
export function regionOrder(grid: Grid, m: number): number[] {
  const g = checkGrid(grid);
  checkRegions(g, m);
  const rh = g.height / m;
  const rw = g.width / m;
  const order: number[] = [];
  for (let f = 0; f < g.frames; f++) {
    for (let y = 0; y < rh; y++) {
      for (let x = 0; x < rw; x++) {
        for (let ry = 0; ry < m; ry++) {
          for (let rx = 0; rx < m; rx++) order.push(cellIndex(g, f, ry * rh + y, rx * rw + x));
        }
      }
    }
  }
  return order;
}

function checkRegions(grid: Grid, m: unknown): number {
  const mm = checkInt("m", m, "pass the number of regions per side, e.g. m: 2 for PAR-4x");
  if (grid.height % mm !== 0 || grid.width % mm !== 0) {
    throw new ConfigError(
      "m",
      `${mm} does not divide the ${
        describeGrid(grid)
      } grid's height ${grid.height} and width ${grid.width}`,
      `choose m dividing both (e.g. ${divisors(gcd(grid.height, grid.width)).join(", ")})`,
    );
  }
  if (mm * mm > cellCount(grid)) {
    throw new ConfigError("m", `${mm}x${mm} regions exceed the grid`, "choose a smaller m");
  }
  return mm;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

/** Cut a flat order into `initial` single steps and then groups of `n`. */
function cut(order: number[], n: number, initial: number): number[][] {
  const groups: number[][] = [];
  for (let i = 0; i < initial; i++) groups.push([order[i]]);
  for (let i = initial; i < order.length; i += n) groups.push(order.slice(i, i + n));
  return groups;
}

/**
 * PAR: the first cell of every region one at a time (n = m*m sequential steps fix the global
 * layout), then n cells a step, one per region, all at the same in-region position.
 * 24x24: m=2 -> 147 steps (PAR-4x), m=4 -> 51 steps (PAR-16x).
 * @example
 * par(makeGrid(24, 24), { m: 2 }).steps.length; // 147
 */
export function par(grid: Grid, options: ParOptions): Schedule {
  const g = checkGrid(grid);
  const m = checkRegions(g, options?.m);
  const attention = checkAttention(options.attention);
  const n = m * m;
  const name = `par${n}${attention === "causal" ? "-causal" : ""}`;
  return finish(name, g, cut(regionOrder(g, m), n, n), attention, { rows: m, cols: m });
}

/**
 * PAR without the initial sequential tokens (ablation): groups of n = m*m region-aligned cells
 * from the first step. 24x24, m=2 -> 144 steps.
 */
export function parWithoutInitial(grid: Grid, options: ParOptions): Schedule {
  const g = checkGrid(grid);
  const m = checkRegions(g, options?.m);
  const attention = checkAttention(options.attention);
  const n = m * m;
  const name = `par${n}-noinit${attention === "causal" ? "-causal" : ""}`;
  return finish(name, g, cut(regionOrder(g, m), n, 0), attention, { rows: m, cols: m });
}

/**
 * Naive parallel decoding (ablation "raster, multi"): n consecutive raster cells a step, after n
 * single initial steps by default. Adjacent cells share a step, which breaks local detail.
 * 24x24, n=4 -> 147 steps.
 */
export function rasterGroups(grid: Grid, options: RasterGroupsOptions): Schedule {
  const g = checkGrid(grid);
  const n = checkGroupSize(g, options?.n);
  const attention = checkAttention(options.attention);
  const initial = options.initial ?? true;
  const name = `raster${n}${initial ? "" : "-noinit"}${attention === "causal" ? "-causal" : ""}`;
  return finish(name, g, cut(rasterOrder(g), n, initial ? n : 0), attention);
}

/**
 * Random groups (a control for the entropy probes): PAR's step sizes (n single steps, then
 * groups of n) over a seeded random permutation of the cells.
 */
export function randomGroups(grid: Grid, options: RandomGroupsOptions): Schedule {
  const g = checkGrid(grid);
  const n = checkGroupSize(g, options?.n);
  if (!Number.isSafeInteger(options.seed)) {
    throw new ConfigError(
      "seed",
      `must be an integer, got ${String(options.seed)}`,
      "pass e.g. seed: 0",
    );
  }
  const order = new Rng(options.seed).shuffle(rasterOrder(g));
  return finish(
    `random${n}-s${options.seed}`,
    g,
    cut(order, n, n),
    checkAttention(options.attention),
  );
}

/**
 * A schedule from explicit steps (lists of flat cell indices). Every cell exactly once.
 * @example
 * custom(makeGrid(2, 2), [[0], [3], [1, 2]], { name: "diagonal" });
 */
export function custom(
  grid: Grid,
  steps: number[][],
  options: { name?: string; attention?: StepAttention } = {},
): Schedule {
  const g = checkGrid(grid);
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new ConfigError("steps", "is empty", "pass a list of steps, each a list of cells");
  }
  steps.forEach((s, i) => {
    if (!Array.isArray(s)) {
      throw new ConfigError(`steps[${i}]`, "is not a list of cells", "pass e.g. [0, 5]");
    }
  });
  return finish(
    options.name ?? "custom",
    g,
    steps.map((s) => [...s]),
    checkAttention(options.attention),
  );
}
