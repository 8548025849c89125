/**
 * Model-free dependency between token positions: marginal entropy H(X_j), conditional entropy
 * H(X_j | X_ref) and mutual information I(X_j; X_ref), for a few reference cells
 * ({@link referenceDependency}) or for all pairs ({@link pairwiseDependency}), with every estimator
 * of the estimator table (`ESTIMATORS` in {@link ./estimators.ts}: formulas, corrections, biases).
 *
 * Both paths go through one routine (`estimateRow`): given the joint-histogram statistics of
 * one reference cell with every cell (a row of the all-pairs table, or C pairs counted for that
 * reference) on the data and on each column-shuffled copy, it applies every table entry. So the
 * two paths agree by construction, and a new table entry needs no code here.
 *
 * Conditional entropy is H(X_j | X_i) = H(X_j) − I(X_i; X_j) with the estimator's own marginal
 * (`marginal`, default `entropy`, of its table entry). Matrices are C x C row-major; the diagonal
 * of a mutual-information matrix holds the cell's own entropy (I(X;X) = H(X)).
 *
 * Coarse-graining (a `codeMap`, see {@link ./coarse.ts}) maps codes to G ≪ K clusters before
 * counting; it shrinks the bias of every estimator at the price of measuring the dependency of
 * the coarse variables, which is a lower bound on the fine one (data processing inequality).
 * @module
 */
import {
  type AllPairsOptions,
  allPairsStats,
  mergePairTables,
  referenceShard,
} from "./all_pairs.ts";
import {
  ESTIMATORS,
  type EstimatorSpec,
  type HistogramStats,
  MI_ESTIMATORS,
  type MiEstimator,
} from "./estimators.ts";
import { PairScratch, type PairTable, referenceRow } from "./pairs.ts";
import {
  type ColumnTable,
  EntropyInputError,
  toColumns,
  type TokenSet,
  validateTokenSet,
} from "./tokens.ts";
import type { GridLike } from "../media/grid.ts";
import { Rng } from "../util/rng.ts";

/** The estimator table, typed by entry (see ./estimators.ts). */
const TABLE: Readonly<Record<MiEstimator, EstimatorSpec>> = ESTIMATORS;

/** Options shared by {@link pairwiseDependency} and {@link referenceDependency}. */
export interface DependencyOptions extends AllPairsOptions {
  /** Map every code k to a cluster codeMap[k] before counting (coarse-graining). */
  codeMap?: ArrayLike<number>;
  /** Use only these samples (e.g. one class). */
  rows?: ArrayLike<number>;
  /** Seed of the column permutations of the shuffle baseline (default 0). */
  shuffleSeed?: number;
  /**
   * Number of independent shuffles averaged by estimators with the `"shuffle"` correction; 0
   * skips those estimators (default 1).
   */
  shuffles?: number;
  /**
   * Precomputed shards of the all-pairs statistics ({@link pairwiseShard}, every shard of one
   * split): joined instead of running the pair engine.
   */
  fromShards?: readonly PairwiseShard[];
}

/** Dependency statistics of every pair of cells. */
export interface PairwiseDependency {
  /** Grid of the samples. */
  grid: GridLike;
  /** Number of cells C. */
  cells: number;
  /** Number of samples N used. */
  rows: number;
  /** Alphabet size after coarse-graining. */
  alphabet: number;
  /** Marginal entropy H(X_j) per cell (bits) as each estimator reports it. */
  entropy: Record<MiEstimator, Float64Array>;
  /** C x C mutual information (bits) by estimator; corrected ones absent when shuffles = 0. */
  mutualInformation: Partial<Record<MiEstimator, Float64Array>>;
  /**
   * C x C baseline each corrected estimator subtracted: the mean of its uncorrected mutual
   * information over the shuffled copies (absent when shuffles = 0).
   */
  baseline: Partial<Record<MiEstimator, Float64Array>>;
  /** `baseline.shuffle`: the mean plug-in mutual information of the shuffled columns. */
  shuffleBaseline?: Float64Array;
}

/** Dependency of every cell on one reference cell. */
export interface ReferenceDependency {
  /** The reference cell (flat index). */
  ref: number;
  /** I(X_j; X_ref) per cell j, by estimator (entry ref holds H(X_ref)). */
  mutualInformation: Partial<Record<MiEstimator, Float64Array>>;
  /** H(X_j | X_ref) per cell j, by estimator (entry ref is 0). */
  conditionalEntropy: Partial<Record<MiEstimator, Float64Array>>;
}

/** Result of {@link referenceDependency}. */
export interface ReferenceDependencies {
  /** Grid of the samples. */
  grid: GridLike;
  /** Number of samples N used. */
  rows: number;
  /** Marginal entropy H(X_j) per cell (bits) as each estimator reports it. */
  entropy: Record<MiEstimator, Float64Array>;
  /** One entry per requested reference, in request order. */
  references: ReferenceDependency[];
}

/** Copy of `table` with every column permuted by its own permutation from one seeded stream. */
function shuffleColumns(table: ColumnTable, seed: number): ColumnTable {
  const rng = new Rng(seed);
  const { rows: n, cells } = table;
  const columns = table.columns.slice();
  for (let j = 0; j < cells; j++) {
    const col = columns.subarray(j * n, (j + 1) * n);
    for (let i = n - 1; i > 0; i--) {
      const k = rng.int(i + 1);
      const t = col[i];
      col[i] = col[k];
      col[k] = t;
    }
  }
  return { ...table, columns };
}

/** The `shuffles` column-shuffled copies of `table` (seeds kept apart so none share a stream). */
function shuffledCopies(table: ColumnTable, options: DependencyOptions): ColumnTable[] {
  const seed = options.shuffleSeed ?? 0;
  const shuffles = options.shuffles ?? 1;
  if (!MI_ESTIMATORS.some((e) => TABLE[e].correction === "shuffle")) return [];
  return Array.from({ length: shuffles }, (_, r) => shuffleColumns(table, seed * 7919 + r + 1));
}

/** Joint statistics of one reference cell with every cell j: Σ n log2 n and support at j. */
interface JointRow {
  sumNLogN: ArrayLike<number>;
  support: ArrayLike<number>;
}

/** What {@link estimateRow} needs besides the joint rows, computed once per token table. */
interface Estimation {
  /** Number of samples N. */
  rows: number;
  /** Estimators to compute, in table order (corrected ones only when there are shuffles). */
  estimators: MiEstimator[];
  /** Per estimator and cell: the entropy its MI formula uses (`entropy` of the entry). */
  raw: Record<MiEstimator, Float64Array>;
  /** Per estimator and cell: the entropy it reports (`marginal ?? entropy` of the entry). */
  reported: Record<MiEstimator, Float64Array>;
}

function estimation(marginals: HistogramStats[], rows: number, shuffles: number): Estimation {
  const raw = {} as Record<MiEstimator, Float64Array>;
  const reported = {} as Record<MiEstimator, Float64Array>;
  for (const name of MI_ESTIMATORS) {
    const spec = TABLE[name];
    raw[name] = Float64Array.from(marginals, spec.entropy);
    reported[name] = spec.marginal ? Float64Array.from(marginals, spec.marginal) : raw[name];
  }
  const estimators = MI_ESTIMATORS.filter((e) => shuffles > 0 || !TABLE[e].correction);
  return { rows, estimators, raw, reported };
}

/** Î = Ĥ(X_ref) + Ĥ(X_j) − Ĥ(X_ref, X_j) with one estimator's entropy (Ĥ(X_ref) at j = ref). */
function rawRow(spec: EstimatorSpec, h: Float64Array, n: number, ref: number, joint: JointRow) {
  const row = new Float64Array(h.length);
  for (let j = 0; j < h.length; j++) {
    row[j] = j === ref
      ? h[ref]
      : h[ref] + h[j] - spec.entropy({ n, sumNLogN: joint.sumNLogN[j], support: joint.support[j] });
  }
  return row;
}

/**
 * The one mutual-information routine of both paths: I(X_ref; X_j) for every cell j with every
 * estimator of `est`, from the joint statistics of `ref` with each cell on the data and on each
 * shuffled copy. Returns the rows, and for corrected estimators the subtracted baselines.
 */
function estimateRow(
  est: Estimation,
  ref: number,
  data: JointRow,
  shuffled: JointRow[],
): {
  mi: Partial<Record<MiEstimator, Float64Array>>;
  baseline: Partial<Record<MiEstimator, Float64Array>>;
} {
  const mi: Partial<Record<MiEstimator, Float64Array>> = {};
  const baseline: Partial<Record<MiEstimator, Float64Array>> = {};
  for (const name of est.estimators) {
    const spec = TABLE[name];
    const h = est.raw[name];
    const row = rawRow(spec, h, est.rows, ref, data);
    if (spec.correction === "shuffle") {
      const base = new Float64Array(row.length);
      for (const copy of shuffled) {
        // Shuffling permutes rows only, so the marginal entropies h stay those of the data.
        const p = rawRow(spec, h, est.rows, ref, copy);
        for (let j = 0; j < base.length; j++) base[j] += p[j] / shuffled.length;
      }
      for (let j = 0; j < row.length; j++) row[j] -= base[j];
      baseline[name] = base;
    }
    row[ref] = est.reported[name][ref];
    mi[name] = row;
  }
  return { mi, baseline };
}

/** H(X_j | X_ref) = H(X_j) − I(X_ref; X_j) for every j (0 at j = ref). */
function conditionalOf(mi: Float64Array, h: Float64Array, ref: number): Float64Array {
  return mi.map((v, j) => (j === ref ? 0 : h[j] - v));
}

function columnsFor(ts: TokenSet, options: DependencyOptions): ColumnTable {
  validateTokenSet(ts);
  const table = toColumns(ts, { rows: options.rows, codeMap: options.codeMap });
  if (table.rows < 2) {
    throw new EntropyInputError(
      `dependency needs at least 2 samples, got ${table.rows} (check "rows")`,
    );
  }
  return table;
}

/**
 * One shard of the all-pairs statistics: the joint statistics of reference cells
 * [start, end) with every later cell, on the data and on each shuffled copy. Shards of one split
 * run anywhere (a cluster array task each) and {@link pairwiseDependency}'s `fromShards` joins
 * them into exactly the unsharded result.
 */
export interface PairwiseShard {
  /** Which shard of how many. */
  shard: { index: number; count: number };
  /** Reference cells [start, end) this shard filled. */
  references: { start: number; end: number };
  /** Pair statistics of the data. */
  stats: PairTable;
  /** Pair statistics of each shuffled copy (for the shuffle-corrected estimators). */
  shuffled: PairTable[];
}

/**
 * Compute shard `shard.index` of `shard.count` of the all-pairs statistics (reference cells
 * balanced by pair count). Same options as {@link pairwiseDependency} (they must match across
 * shards: rows, codeMap, shuffles, shuffleSeed).
 * @example
 * const parts = await Promise.all([0, 1, 2].map((index) => pairwiseShard(tokens, { index, count: 3 })));
 * const dep = await pairwiseDependency(tokens, { fromShards: parts });
 */
export async function pairwiseShard(
  ts: TokenSet,
  shard: { index: number; count: number },
  options: DependencyOptions = {},
): Promise<PairwiseShard> {
  const table = columnsFor(ts, options);
  if (!Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new EntropyInputError(
      `shard: ${shard.index} of ${shard.count} is out of range. Fix: an index in 0..${
        shard.count - 1
      }`,
    );
  }
  const references = referenceShard(table.cells, shard);
  const label = `${options.label ?? "pairs"} (shard ${shard.index + 1}/${shard.count})`;
  const stats = await allPairsStats(table, { ...options, label, references });
  const shuffled = [];
  for (const [r, copy] of shuffledCopies(table, options).entries()) {
    shuffled.push(
      await allPairsStats(copy, { ...options, label: `${label} shuffle ${r + 1}`, references }),
    );
  }
  return { shard, references, stats, shuffled };
}

/** Join the shards of one split, checking that they cover every reference once. */
function joinShards(shards: readonly PairwiseShard[], table: ColumnTable) {
  const count = shards[0]?.shard.count;
  const seen = new Set(shards.map((s) => s.shard.index));
  if (!count || shards.some((s) => s.shard.count !== count) || seen.size !== count) {
    const missing = Array.from({ length: count ?? 0 }, (_, i) => i).filter((i) => !seen.has(i));
    throw new EntropyInputError(
      `fromShards: ${
        missing.length ? `shards ${missing.join(", ")} of ${count} are missing` : "shards of " +
          "different splits or repeated shards"
      }. Fix: pass every shard of one split exactly once`,
    );
  }
  for (const s of shards) {
    if (s.stats.cells !== table.cells || s.stats.rows !== table.rows) {
      throw new EntropyInputError(
        `fromShards: shard ${s.shard.index} was computed on ${s.stats.rows} grids of ${s.stats.cells} ` +
          `cells, this token set has ${table.rows} of ${table.cells}. Fix: use the same token set ` +
          "and options (rows, codeMap)",
      );
    }
  }
  const copies = shards[0].shuffled.length;
  if (shards.some((s) => s.shuffled.length !== copies)) {
    throw new EntropyInputError(
      "fromShards: shards with different shuffle counts. Fix: the same shuffles on every shard",
    );
  }
  return {
    stats: mergePairTables(shards.map((s) => s.stats)),
    shuffled: Array.from(
      { length: copies },
      (_, r) => mergePairTables(shards.map((s) => s.shuffled[r])),
    ),
  };
}

/**
 * Mutual information and entropies of all pairs of cells (C(C−1)/2 pairs; 165,600 on 24 x 24).
 * Runs the pair engine once on the data and once per shuffle on the shuffled columns, or joins
 * precomputed shards (`fromShards`, from {@link pairwiseShard}).
 * @example
 * const dep = await pairwiseDependency(tokens, { progress: true });
 * const h = conditionalEntropyRow(dep, 300, "shuffle"); // H(X_j | X_300) for every j
 */
export async function pairwiseDependency(
  ts: TokenSet,
  options: DependencyOptions = {},
): Promise<PairwiseDependency> {
  const table = columnsFor(ts, options);
  const label = options.label ?? "pairs";
  let stats: PairTable;
  const shuffledStats: PairTable[] = [];
  const copies = options.fromShards ? [] : shuffledCopies(table, options);
  if (options.fromShards) {
    const joined = joinShards(options.fromShards, table);
    stats = joined.stats;
    shuffledStats.push(...joined.shuffled);
  } else {
    stats = await allPairsStats(table, { ...options, label });
    for (const [r, copy] of copies.entries()) {
      shuffledStats.push(
        await allPairsStats(copy, { ...options, label: `${label} (shuffle ${r + 1})` }),
      );
    }
  }
  const c = table.cells;
  const n = table.rows;
  const marginals = Array.from({ length: c }, (_, i): HistogramStats => ({
    n,
    sumNLogN: stats.sumNLogN[i * c + i],
    support: stats.support[i * c + i],
  }));
  const est = estimation(marginals, n, shuffledStats.length);
  const rowOf = (t: typeof stats, i: number): JointRow => ({
    sumNLogN: t.sumNLogN.subarray(i * c, (i + 1) * c),
    support: t.support.subarray(i * c, (i + 1) * c),
  });
  const mi: Partial<Record<MiEstimator, Float64Array>> = {};
  const baseline: Partial<Record<MiEstimator, Float64Array>> = {};
  for (const e of est.estimators) mi[e] = new Float64Array(c * c);
  for (let i = 0; i < c; i++) {
    const row = estimateRow(est, i, rowOf(stats, i), shuffledStats.map((s) => rowOf(s, i)));
    for (const e of est.estimators) {
      mi[e]!.set(row.mi[e]!, i * c);
      const b = row.baseline[e];
      if (b) (baseline[e] ??= new Float64Array(c * c)).set(b, i * c);
    }
  }
  return {
    grid: ts.grid,
    cells: c,
    rows: n,
    alphabet: table.alphabet,
    entropy: est.reported,
    mutualInformation: mi,
    baseline,
    shuffleBaseline: baseline.shuffle,
  };
}

/** Pick a mutual-information matrix or fail naming the missing estimator. */
export function mutualInformationMatrix(
  dep: PairwiseDependency,
  estimator: MiEstimator,
): Float64Array {
  const m = dep.mutualInformation[estimator];
  if (!m) {
    throw new EntropyInputError(
      MI_ESTIMATORS.includes(estimator)
        ? `estimator "${estimator}" was not computed (its shuffle correction needs shuffles >= 1)`
        : `unknown estimator "${estimator}"; the estimators are ${MI_ESTIMATORS.join(", ")}`,
    );
  }
  return m;
}

/** I(X_j; X_ref) for every cell j (row `ref` of the matrix; entry ref holds H(X_ref)). */
export function mutualInformationRow(
  dep: PairwiseDependency,
  ref: number,
  estimator: MiEstimator,
): Float64Array {
  const m = mutualInformationMatrix(dep, estimator);
  return m.slice(ref * dep.cells, (ref + 1) * dep.cells);
}

/** H(X_j | X_ref) for every cell j, in bits (entry ref is 0). */
export function conditionalEntropyRow(
  dep: PairwiseDependency,
  ref: number,
  estimator: MiEstimator,
): Float64Array {
  return conditionalOf(mutualInformationRow(dep, ref, estimator), dep.entropy[estimator], ref);
}

/** The C x C matrix H(X_j | X_i) at i*C + j (row = conditioning cell), in bits. */
export function conditionalEntropyMatrix(
  dep: PairwiseDependency,
  estimator: MiEstimator,
): Float64Array {
  const c = dep.cells;
  const out = new Float64Array(c * c);
  for (let i = 0; i < c; i++) out.set(conditionalEntropyRow(dep, i, estimator), i * c);
  return out;
}

/**
 * Dependency of every cell on a few reference cells, without the all-pairs work (C pairs per
 * reference). Gives the same numbers as the matching rows of {@link pairwiseDependency} with the
 * same options.
 * @example
 * const { references } = referenceDependency(tokens, [0, 300]);
 * references[1].conditionalEntropy["miller-madow"]; // H(X_j | X_300)
 */
export function referenceDependency(
  ts: TokenSet,
  refs: number[],
  options: DependencyOptions = {},
): ReferenceDependencies {
  const table = columnsFor(ts, options);
  const c = table.cells;
  for (const ref of refs) {
    if (!Number.isInteger(ref) || ref < 0 || ref >= c) {
      throw new EntropyInputError(`reference cell ${ref} outside the grid's ${c} cells`);
    }
  }
  const n = table.rows;
  const scratch = new PairScratch(table);
  const marginals = Array.from({ length: c }, (_, j): HistogramStats => {
    scratch.prepare(j);
    return scratch.marginal;
  });
  const copies = shuffledCopies(table, options).map((t) => new PairScratch(t));
  const est = estimation(marginals, n, copies.length);
  const references = refs.map((ref): ReferenceDependency => {
    const { mi } = estimateRow(
      est,
      ref,
      referenceRow(scratch, ref),
      copies.map((sc) => referenceRow(sc, ref)),
    );
    const conditionalEntropy: Partial<Record<MiEstimator, Float64Array>> = {};
    for (const e of est.estimators) {
      conditionalEntropy[e] = conditionalOf(mi[e]!, est.reported[e], ref);
    }
    return { ref, mutualInformation: mi, conditionalEntropy };
  });
  return { grid: ts.grid, rows: n, entropy: est.reported, references };
}
