/**
 * Entropy estimators from counts, in bits.
 *
 * All estimators here work from the *sufficient statistics* of a histogram: the sample count N,
 * the sum S = Σ_k n_k log2 n_k over the bins, and the support m (number of non-empty bins). The
 * pair engine ({@link ./pairs.ts}) produces exactly these for every joint histogram without ever
 * materialising a K x K table.
 *
 * Plug-in (maximum likelihood): Ĥ = log2 N − S / N.
 *   Bias: always downward; to first order E[Ĥ] − H ≈ −(m_true − 1) / (2 N ln 2) (Miller 1955),
 *   which for a joint of two K = 1024 codes and N ≈ 6000 is far larger than the true mutual
 *   information of distant cells.
 * Miller–Madow: Ĥ_MM = Ĥ + (m − 1) / (2 N ln 2), with m the *observed* support.
 *   Bias: removes the first-order term when every bin is well sampled (n_k ≫ 1); when most bins
 *   hold one or two samples (large alphabets, small N) the observed m undercounts the true
 *   support and the correction is still too small, so mutual information stays biased upward.
 * @module
 */

/** Which estimator turns histogram statistics into bits. */
export type EntropyEstimator = "plugin" | "miller-madow";

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

/** Entropy in bits from histogram statistics with the named estimator. */
export function entropyFromStats(s: HistogramStats, estimator: EntropyEstimator): number {
  return estimator === "plugin" ? pluginEntropy(s) : millerMadowEntropy(s);
}

/** Entropy in bits of the empirical distribution of `codes` (plug-in unless told otherwise). */
export function entropyOfCodes(
  codes: ArrayLike<number>,
  estimator: EntropyEstimator = "plugin",
): number {
  return entropyFromStats(histogramStats(codes), estimator);
}
