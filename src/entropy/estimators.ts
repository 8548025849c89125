/**
 * The estimator table: every entropy and mutual-information estimator of the probes is one entry
 * of {@link ESTIMATORS}, and everything else (the all-pairs and reference paths of
 * `dependency.ts`, {@link MI_ESTIMATORS}, the figures that list estimators) reads the table.
 *
 * Every estimator works from the *sufficient statistics* of a histogram: the sample count N, the
 * sum S = Σ_k n_k log2 n_k over the bins, and the support m (number of non-empty bins). The pair
 * engine ({@link ./pairs.ts}) produces exactly these for every joint histogram without ever
 * materialising a K x K table. An entry says
 *
 * - `entropy`: how one histogram's statistics become bits, Ĥ. Mutual information is then
 *   Î = Ĥ(X_i) + Ĥ(X_j) − Ĥ(X_i, X_j), the same formula for every entry;
 * - `correction` (optional): a bias correction of Î. `"shuffle"` subtracts the mean Î of copies of
 *   the data whose columns are each permuted by their own seeded permutation (which destroys the
 *   dependency but keeps both marginals), averaged over the `shuffles` of the dependency options;
 *   such an entry is absent from the results when `shuffles` is 0;
 * - `marginal` (optional, default `entropy`): the entropy of one cell the estimator reports, on
 *   the diagonal I(X; X) = H(X) and in H(X_j | X_i) = H(X_j) − I(X_i; X_j);
 * - `description` and `bias`: one line for legends, and when the estimator is biased and why.
 *
 * Adding an estimator is adding one entry; it appears in {@link MI_ESTIMATORS} and in every
 * result of `pairwiseDependency` / `referenceDependency`, and both paths give the same numbers.
 * Entries without a `correction` are also entropy estimators ({@link EntropyEstimator}) for
 * {@link entropyOfCodes}.
 *
 * Plug-in (maximum likelihood): Ĥ = log2 N − S / N. Miller–Madow: Ĥ + (m − 1) / (2 N ln 2) with m
 * the *observed* support (Miller 1955), so its Î = Î_plugin − (m_ij − m_i − m_j + 1) / (2 N ln 2).
 * @module
 */

/** The sufficient statistics of one histogram (see module docs). */
export interface HistogramStats {
  /** Number of samples N. */
  n: number;
  /** Σ n_k log2 n_k over the non-empty bins. */
  sumNLogN: number;
  /** Number of non-empty bins m. */
  support: number;
}

/**
 * A lookup table g[c] = (c+1) log2(c+1) − c log2 c, so that Σ n_k log2 n_k can be accumulated
 * one sample at a time (each increment of a bin from c to c+1 adds g[c]).
 */
export function nLogNIncrements(maxCount: number): Float64Array {
  const g = new Float64Array(maxCount + 1);
  let prev = 0;
  for (let c = 0; c <= maxCount; c++) {
    const next = (c + 1) * Math.log2(c + 1);
    g[c] = next - prev;
    prev = next;
  }
  return g;
}

/** Histogram statistics of a list of integer codes (any range; uses a Map when sparse). */
export function histogramStats(codes: ArrayLike<number>): HistogramStats {
  const counts = new Map<number, number>();
  for (let i = 0; i < codes.length; i++) counts.set(codes[i], (counts.get(codes[i]) ?? 0) + 1);
  let sum = 0;
  for (const c of counts.values()) sum += c * Math.log2(c);
  return { n: codes.length, sumNLogN: sum, support: counts.size };
}

/**
 * Plug-in entropy in bits: Ĥ = log2 N − (Σ n_k log2 n_k) / N. Zero samples give 0.
 * @example
 * pluginEntropy({ n: 4, sumNLogN: 2 * 2 * Math.log2(2), support: 2 }); // 1 bit
 */
export function pluginEntropy(s: HistogramStats): number {
  if (s.n === 0) return 0;
  return Math.log2(s.n) - s.sumNLogN / s.n;
}

/**
 * Miller–Madow entropy in bits: the plug-in value plus (m − 1) / (2 N ln 2), m = observed support.
 * Removes the plug-in estimator's first-order downward bias (module docs say when it does not).
 */
export function millerMadowEntropy(s: HistogramStats): number {
  if (s.n === 0) return 0;
  return pluginEntropy(s) + (s.support - 1) / (2 * s.n * Math.LN2);
}

/** One entry of the estimator table (see the module docs for how each field is used). */
export interface EstimatorSpec {
  /** One line for legends and tables. */
  readonly description: string;
  /** When the estimate is biased, which way, and why. */
  readonly bias: string;
  /** Entropy in bits of one histogram; mutual information is Ĥ(X_i) + Ĥ(X_j) − Ĥ(X_i, X_j). */
  readonly entropy: (s: HistogramStats) => number;
  /**
   * Bias correction of the mutual information: `"shuffle"` subtracts its mean over
   * column-shuffled copies of the data (needs `shuffles` >= 1).
   */
  readonly correction?: "shuffle";
  /** Entropy of one cell as this estimator reports it (diagonal, conditional); default `entropy`. */
  readonly marginal?: (s: HistogramStats) => number;
}

/**
 * The estimators, in the order figures and tables list them: `plugin`, `miller-madow` and
 * `shuffle` (plug-in MI minus its mean over column-shuffled copies, with Miller–Madow marginals).
 * Each entry is an {@link EstimatorSpec}; add an estimator by adding an entry.
 * @example
 * for (const [name, e] of Object.entries(ESTIMATORS)) console.log(name, e.description);
 */
export const ESTIMATORS = {
  plugin: {
    description: "plug-in (maximum likelihood)",
    bias: "Entropy: always downward, to first order −(m_true − 1) / (2 N ln 2). Mutual " +
      "information: upward; for independent cells E[Î] ≈ (m_i − 1)(m_j − 1) / (2 N ln 2), so " +
      "with K = 1024 codes and N ≈ 6000 samples distant, independent cells still show tenths " +
      "of a bit.",
    entropy: pluginEntropy,
  },
  "miller-madow": {
    description: "Miller–Madow (plug-in + (m − 1) / (2 N ln 2), m the observed support)",
    bias: "Removes the first-order term when every bin is well sampled (n_k ≫ 1). When most " +
      "bins hold one or two samples (large alphabets, small N; for a joint, m_i·m_j ≫ N) the " +
      "observed support saturates near N, the correction falls short and mutual information " +
      "keeps a positive bias (use coarse-graining or the shuffle baseline there).",
    entropy: millerMadowEntropy,
  },
  shuffle: {
    description: "plug-in MI minus its mean over column-shuffled copies (independence baseline)",
    bias: "≈ 0 for independent cells (the spread is the null distribution's, roughly ± the " +
      "baseline's own standard deviation, so values may be slightly negative). For strongly " +
      "dependent cells the true plug-in bias is smaller than the independence baseline (fewer " +
      "joint bins are occupied), so strong dependencies are slightly underestimated. Reports " +
      "Miller–Madow marginal entropies.",
    entropy: pluginEntropy,
    correction: "shuffle" as const,
    marginal: millerMadowEntropy,
  },
} satisfies Record<string, EstimatorSpec>;

/** Name of an estimator of {@link ESTIMATORS}. */
export type MiEstimator = keyof typeof ESTIMATORS;

/** Every estimator name, in table order (the order figures and tables list them). */
export const MI_ESTIMATORS: readonly MiEstimator[] = Object.keys(ESTIMATORS) as MiEstimator[];

/**
 * The estimators that give the entropy of a single variable: the entries of {@link ESTIMATORS}
 * without a `correction` (`"plugin"`, `"miller-madow"`).
 */
export type EntropyEstimator = {
  [K in MiEstimator]: (typeof ESTIMATORS)[K] extends { correction: string } ? never : K;
}[MiEstimator];

/** Entropy in bits from histogram statistics with the named estimator. */
export function entropyFromStats(s: HistogramStats, estimator: EntropyEstimator): number {
  return ESTIMATORS[estimator].entropy(s);
}

/** Entropy in bits of the empirical distribution of `codes` (plug-in unless told otherwise). */
export function entropyOfCodes(
  codes: ArrayLike<number>,
  estimator: EntropyEstimator = "plugin",
): number {
  return entropyFromStats(histogramStats(codes), estimator);
}
