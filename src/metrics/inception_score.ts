/**
 * Inception Score from a classifier's logits: exp(E_x KL(p(y|x) || p(y))), computed over equal
 * splits and reported as mean and standard deviation across them, as ADM's evaluator and the
 * original implementation do (10 splits of the samples; ADM uses splits of 5,000).
 * @module
 */

/** IS over splits. */
export interface InceptionScoreResult {
  /** Mean of the per-split scores. */
  mean: number;
  /** Standard deviation (population) of the per-split scores. */
  std: number;
  /** The score of every split. */
  splits: number[];
}

/**
 * Inception Score of n pictures from their logits (n x classes, row-major).
 * @param splits number of equal splits (the remainder joins the last split)
 * @example
 * inceptionScore(logits, 1000, { splits: 10 }).mean;
 */
export function inceptionScore(
  logits: Float32Array | Float64Array,
  classes: number,
  options: { splits?: number } = {},
): InceptionScoreResult {
  const n = logits.length / classes;
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(classes) || classes < 2) {
    throw new RangeError(
      `logits: ${logits.length} values are not n rows of ${classes} classes (n >= 1, classes >= 2)`,
    );
  }
  const k = options.splits ?? 10;
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new RangeError(`splits: ${k} must be an integer in [1, n = ${n}]`);
  }
  // Softmax rows in float64 (max-subtracted).
  const probs = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[i * classes + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp(logits[i * classes + c] - max);
      probs[i * classes + c] = e;
      sum += e;
    }
    if (!Number.isFinite(sum)) throw new RangeError(`logits: row ${i} is not finite`);
    for (let c = 0; c < classes; c++) probs[i * classes + c] /= sum;
  }
  const size = Math.floor(n / k);
  const scores: number[] = [];
  for (let s = 0; s < k; s++) {
    const start = s * size;
    const end = s === k - 1 ? n : start + size;
    const marginal = new Float64Array(classes);
    for (let i = start; i < end; i++) {
      for (let c = 0; c < classes; c++) marginal[c] += probs[i * classes + c];
    }
    for (let c = 0; c < classes; c++) marginal[c] /= end - start;
    let kl = 0;
    for (let i = start; i < end; i++) {
      for (let c = 0; c < classes; c++) {
        const p = probs[i * classes + c];
        if (p > 0) kl += p * (Math.log(p) - Math.log(marginal[c]));
      }
    }
    scores.push(Math.exp(kl / (end - start)));
  }
  const mean = scores.reduce((a, b) => a + b, 0) / k;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / k);
  return { mean, std, splits: scores };
}
