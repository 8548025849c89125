/**
 * Model-free dependency between token positions: marginal entropy H(X_j), conditional entropy
 * H(X_j | X_ref) and mutual information I(X_j; X_ref), for a few reference cells or for all
 * pairs, with three mutual-information estimators (all in bits):
 *
 * - `"plugin"`: Î = Ĥ(X_i) + Ĥ(X_j) − Ĥ(X_i, X_j) with plug-in entropies.
 *   Bias: upward. For independent cells E[Î] ≈ (m_i − 1)(m_j − 1) / (2 N ln 2) (m = support),
 *   so with K = 1024 codes and N ≈ 6000 samples distant, independent cells still show
 *   tenths of a bit.
 * - `"miller-madow"`: the same with Miller–Madow entropies, i.e.
 *   Î_MM = Î − (m_ij − m_i − m_j + 1) / (2 N ln 2) with observed supports.
 *   Bias: removes the first-order term when the joint histogram is well sampled; when
 *   m_i·m_j ≫ N the observed joint support saturates near N, the correction falls short and a
 *   positive bias remains (use coarse-graining or the shuffle baseline there).
 * - `"shuffle"`: Î − mean_r Î(X_i; σ_r X_j) where every column is permuted by its own seeded
 *   permutation σ_r, which destroys the dependency but keeps both marginals. The subtracted term
 *   is the plug-in value expected for independent cells with these marginals.
 *   Bias: ≈ 0 for independent cells (the spread is the null distribution's, roughly ± the
 *   baseline's own standard deviation, and values may be slightly negative); for strongly
 *   dependent cells the true plug-in bias is smaller than the independence baseline (fewer joint
 *   bins are occupied), so strong dependencies are slightly underestimated.
 *
 * Conditional entropy uses H(X_j | X_i) = H(X_j) − I(X_i; X_j), with the plug-in marginal for
 * `"plugin"` and the Miller–Madow marginal for the other two. Matrices are C x C row-major; the
 * diagonal of a mutual-information matrix holds the cell's own entropy (I(X;X) = H(X)).
 *
 * Coarse-graining (a `codeMap`, see {@link ./coarse.ts}) maps codes to G ≪ K clusters before
 * counting; it shrinks the bias of every estimator at the price of measuring the dependency of
 * the coarse variables, which is a lower bound on the fine one (data processing inequality).
 * @module
 */
import { type AllPairsOptions, allPairsStats } from "./all_pairs.ts";
import { millerMadowEntropy, pluginEntropy } from "./estimators.ts";
import { PairScratch, type PairTable } from "./pairs.ts";
import { type ColumnTable, EntropyInputError, toColumns, type TokenSet } from "./tokens.ts";
import type { GridLike } from "../media/grid.ts";
import { validateTokenSet } from "./tokens.ts";
import { Rng } from "../util/rng.ts";

/** Mutual-information estimators (see the module docs for formulas and biases). */
export type MiEstimator = "plugin" | "miller-madow" | "shuffle";

/** Every estimator, in the order figures and tables list them. */
export const MI_ESTIMATORS: readonly MiEstimator[] = ["plugin", "miller-madow", "shuffle"];

/** Options shared by {@link pairwiseDependency} and {@link referenceDependency}. */
export interface DependencyOptions extends AllPairsOptions {
  /** Map every code k to a cluster codeMap[k] before counting (coarse-graining). */
  codeMap?: ArrayLike<number>;
  /** Use only these samples (e.g. one class). */
  rows?: ArrayLike<number>;
  /** Seed of the column permutations of the shuffle baseline (default 0). */
  shuffleSeed?: number;
  /** Number of independent shuffles averaged; 0 skips the shuffle estimator (default 1). */
  shuffles?: number;
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
  /** Marginal entropy per cell (bits) by entropy estimator. */
  entropy: { plugin: Float64Array; "miller-madow": Float64Array };
  /** C x C mutual information (bits) by estimator; `shuffle` absent when shuffles = 0. */
  mutualInformation: Partial<Record<MiEstimator, Float64Array>>;
  /** C x C mean plug-in mutual information of the shuffled columns (the subtracted baseline). */
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
  /** Marginal entropy per cell (bits) by entropy estimator. */
  entropy: { plugin: Float64Array; "miller-madow": Float64Array };
  /** One entry per requested reference, in request order. */
  references: ReferenceDependency[];
}

/** Copy of `table` with every column permuted by its own permutation from one seeded stream. */
export function shuffleColumns(table: ColumnTable, seed: number): ColumnTable {
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

/** Seed of shuffle repetition `r` (kept apart so repetitions never share a stream). */
function shuffleSeedOf(seed: number, r: number): number {
  return seed * 7919 + r + 1;
}

function marginalsOf(stats: PairTable): { plugin: Float64Array; "miller-madow": Float64Array } {
  const c = stats.cells;
  const plugin = new Float64Array(c);
  const mm = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    const h = {
      n: stats.rows,
      sumNLogN: stats.sumNLogN[i * c + i],
      support: stats.support[i * c + i],
    };
    plugin[i] = pluginEntropy(h);
    mm[i] = millerMadowEntropy(h);
  }
  return { plugin, "miller-madow": mm };
}

/** Plug-in and Miller–Madow mutual-information matrices from a pair table. */
export function mutualInformationFromPairs(
  stats: PairTable,
): { plugin: Float64Array; "miller-madow": Float64Array } {
  const c = stats.cells;
  const n = stats.rows;
  const { plugin: hp, "miller-madow": hm } = marginalsOf(stats);
  const plugin = new Float64Array(c * c);
  const mm = new Float64Array(c * c);
  for (let i = 0; i < c; i++) {
    for (let j = 0; j < c; j++) {
      const k = i * c + j;
      if (i === j) {
        plugin[k] = hp[i];
        mm[k] = hm[i];
        continue;
      }
      const joint = { n, sumNLogN: stats.sumNLogN[k], support: stats.support[k] };
      plugin[k] = hp[i] + hp[j] - pluginEntropy(joint);
      mm[k] = hm[i] + hm[j] - millerMadowEntropy(joint);
    }
  }
  return { plugin, "miller-madow": mm };
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
 * Mutual information and entropies of all pairs of cells (C(C−1)/2 pairs; 165,600 on 24 x 24).
 * Runs the pair engine once on the data and once per shuffle on the shuffled columns.
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
  const stats = await allPairsStats(table, { ...options, label });
  const mi: Partial<Record<MiEstimator, Float64Array>> = mutualInformationFromPairs(stats);
  const shuffles = options.shuffles ?? 1;
  let baseline: Float64Array | undefined;
  if (shuffles > 0) {
    const c = table.cells;
    baseline = new Float64Array(c * c);
    for (let r = 0; r < shuffles; r++) {
      const shuffled = shuffleColumns(table, shuffleSeedOf(options.shuffleSeed ?? 0, r));
      const s = await allPairsStats(shuffled, { ...options, label: `${label} (shuffle ${r + 1})` });
      const p = mutualInformationFromPairs(s).plugin;
      for (let k = 0; k < baseline.length; k++) baseline[k] += p[k] / shuffles;
    }
    const corrected = new Float64Array(c * c);
    const hm = marginalsOf(stats)["miller-madow"];
    for (let i = 0; i < c; i++) {
      for (let j = 0; j < c; j++) {
        const k = i * c + j;
        corrected[k] = i === j ? hm[i] : mi.plugin![k] - baseline[k];
      }
    }
    mi.shuffle = corrected;
  }
  return {
    grid: ts.grid,
    cells: table.cells,
    rows: table.rows,
    alphabet: table.alphabet,
    entropy: marginalsOf(stats),
    mutualInformation: mi,
    shuffleBaseline: baseline,
  };
}

/** The marginal entropy that pairs with `estimator` in H(X_j | X_i) = H(X_j) − I. */
function marginalFor(
  entropy: { plugin: Float64Array; "miller-madow": Float64Array },
  estimator: MiEstimator,
): Float64Array {
  return estimator === "plugin" ? entropy.plugin : entropy["miller-madow"];
}

/** Pick a mutual-information matrix or fail naming the missing estimator. */
export function mutualInformationMatrix(
  dep: PairwiseDependency,
  estimator: MiEstimator,
): Float64Array {
  const m = dep.mutualInformation[estimator];
  if (!m) {
    throw new EntropyInputError(
      `estimator "${estimator}" was not computed (shuffle needs shuffles >= 1)`,
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
  const mi = mutualInformationRow(dep, ref, estimator);
  const h = marginalFor(dep.entropy, estimator);
  const out = new Float64Array(dep.cells);
  for (let j = 0; j < dep.cells; j++) out[j] = j === ref ? 0 : h[j] - mi[j];
  return out;
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
  const shuffles = options.shuffles ?? 1;
  const shuffled = Array.from(
    { length: shuffles },
    (_, r) => shuffleColumns(table, shuffleSeedOf(options.shuffleSeed ?? 0, r)),
  );
  // Marginals: the diagonal of the pair statistics, computed through the same engine.
  const scratch = new PairScratch(table);
  const plugin = new Float64Array(c);
  const mm = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    scratch.prepare(j);
    plugin[j] = pluginEntropy(scratch.marginal);
    mm[j] = millerMadowEntropy(scratch.marginal);
  }
  const entropy = { plugin, "miller-madow": mm };
  const out = new Float64Array(2);
  const pluginRow = (sc: PairScratch, ref: number, hp: Float64Array): Float64Array => {
    sc.prepare(ref);
    const row = new Float64Array(c);
    for (let j = 0; j < c; j++) {
      if (j === ref) {
        row[j] = hp[ref];
        continue;
      }
      sc.pair(j, out);
      row[j] = hp[ref] + hp[j] - pluginEntropy({ n, sumNLogN: out[0], support: out[1] });
    }
    return row;
  };
  const shuffleScratch = shuffled.map((t) => new PairScratch(t));
  const references = refs.map((ref): ReferenceDependency => {
    scratch.prepare(ref);
    const mp = new Float64Array(c);
    const mmRow = new Float64Array(c);
    for (let j = 0; j < c; j++) {
      if (j === ref) {
        mp[j] = plugin[ref];
        mmRow[j] = mm[ref];
        continue;
      }
      scratch.pair(j, out);
      const joint = { n, sumNLogN: out[0], support: out[1] };
      mp[j] = plugin[ref] + plugin[j] - pluginEntropy(joint);
      mmRow[j] = mm[ref] + mm[j] - millerMadowEntropy(joint);
    }
    const mutualInformation: Partial<Record<MiEstimator, Float64Array>> = {
      plugin: mp,
      "miller-madow": mmRow,
    };
    if (shuffles > 0) {
      const sh = new Float64Array(c);
      for (const sc of shuffleScratch) {
        // Shuffling permutes rows only, so the marginals (and hence hp) are unchanged.
        const base = pluginRow(sc, ref, plugin);
        for (let j = 0; j < c; j++) sh[j] += base[j] / shuffles;
      }
      for (let j = 0; j < c; j++) sh[j] = j === ref ? mm[ref] : mp[j] - sh[j];
      mutualInformation.shuffle = sh;
    }
    const conditionalEntropy: Partial<Record<MiEstimator, Float64Array>> = {};
    for (const [est, row] of Object.entries(mutualInformation) as [MiEstimator, Float64Array][]) {
      const h = marginalFor(entropy, est);
      conditionalEntropy[est] = row.map((v, j) => (j === ref ? 0 : h[j] - v));
    }
    return { ref, mutualInformation, conditionalEntropy };
  });
  return { grid: ts.grid, rows: n, entropy, references };
}
