/**
 * Turning logits into one token: classifier-free guidance, temperature, top-k, top-p and an
 * inverse-CDF draw from an explicit uniform number, so a run can be replayed exactly. The
 * arithmetic follows python/sampler.py operation for operation (float64, sequential sums in the
 * stated order), so the Python reference sampler, given the same uniforms and logits, picks the
 * same tokens:
 * 1. guided logits: `l = u + s * (c - u)` when guidance is on, else `l = c`;
 * 2. `z = l / temperature`; `e_v = exp(z_v - max z)`; `p_v = e_v / S`, S summed in id order;
 * 3. top-k (0 < k < V): keep the k largest p (ties: lower id first); divide the kept p by their
 *    sum (summed in that ranked order);
 * 4. top-p (p < 1): rank the kept ids by (-p, id); keep ids up to and including the first at
 *    which the running sum of p reaches topP;
 * 5. draw: over the kept ids in ascending id order accumulate p; with total the final sum,
 *    return the first id whose running sum exceeds `u * total` (the last kept id if rounding
 *    leaves none).
 * @module
 */

/** Sampling settings of one run. */
export interface SamplingOptions {
  /** Softmax temperature (> 0). 1 keeps the model's distribution. */
  temperature: number;
  /** Keep only the k most likely tokens; 0 turns it off. */
  topK: number;
  /** Keep the smallest set of tokens whose probability reaches p; 1 turns it off. */
  topP: number;
}

/** Scratch buffers reused across draws so the hot loop allocates nothing. */
export class TokenDrawer {
  readonly #p: Float64Array;
  readonly #ids: Int32Array;
  readonly #keep: Uint8Array;
  readonly #recordEntropy: boolean;
  /** Vocabulary size V. */
  readonly vocab: number;
  /**
   * Entropy (bits) of the guided, tempered distribution of the last draw, before top-k/top-p;
   * NaN unless the drawer was made with `recordEntropy`.
   */
  entropyBits = NaN;

  /**
   * @param vocab vocabulary size V
   * @param recordEntropy compute {@link entropyBits} at every draw (costs one log per token)
   */
  constructor(vocab: number, recordEntropy = false) {
    this.vocab = vocab;
    this.#p = new Float64Array(vocab);
    this.#ids = new Int32Array(vocab);
    this.#keep = new Uint8Array(vocab);
    this.#recordEntropy = recordEntropy;
  }

  /**
   * Guided, tempered, normalised probabilities of one slot into the scratch buffer (steps 1-2).
   * `cond` and `uncond` are views of length V.
   */
  #probabilities(
    cond: Float32Array,
    uncond: Float32Array | null,
    scale: number,
    temperature: number,
  ): void {
    const p = this.#p;
    const V = this.vocab;
    let max = -Infinity;
    for (let i = 0; i < V; i++) {
      const c = cond[i];
      const z = (uncond ? uncond[i] + scale * (c - uncond[i]) : c) / temperature;
      p[i] = z;
      if (z > max) max = z;
    }
    let sum = 0;
    for (let i = 0; i < V; i++) {
      const e = Math.exp(p[i] - max);
      p[i] = e;
      sum += e;
    }
    for (let i = 0; i < V; i++) p[i] /= sum;
  }

  /**
   * Draw one token id from the logits of one slot.
   * @param cond conditional logits [V]
   * @param uncond unconditional logits [V] when guidance is on, else null
   * @param scale guidance scale s
   * @param u uniform number in [0, 1) that decides the draw
   */
  draw(
    cond: Float32Array,
    uncond: Float32Array | null,
    scale: number,
    options: SamplingOptions,
    u: number,
  ): number {
    this.#probabilities(cond, uncond, scale, options.temperature);
    const p = this.#p;
    const V = this.vocab;
    if (this.#recordEntropy) {
      let h = 0;
      for (let i = 0; i < V; i++) if (p[i] > 0) h -= p[i] * Math.log2(p[i]);
      this.entropyBits = h;
    }
    const topK = options.topK > 0 && options.topK < V;
    const topP = options.topP < 1;
    if (!topK && !topP) {
      let total = 0;
      for (let i = 0; i < V; i++) total += p[i];
      const target = u * total;
      let acc = 0;
      for (let i = 0; i < V; i++) {
        acc += p[i];
        if (acc > target) return i;
      }
      return V - 1;
    }
    const ids = this.#ids;
    const byProbability = (a: number, b: number) => (p[b] - p[a]) || (a - b);
    for (let i = 0; i < V; i++) ids[i] = i;
    let kept = V;
    if (topK) {
      ids.sort(byProbability);
      kept = options.topK;
      let sum = 0;
      for (let r = 0; r < kept; r++) sum += p[ids[r]];
      for (let r = 0; r < kept; r++) p[ids[r]] /= sum;
    }
    if (topP) {
      const head = ids.subarray(0, kept);
      head.sort(byProbability);
      let run = 0;
      for (let r = 0; r < kept; r++) {
        run += p[head[r]];
        if (run >= options.topP) {
          kept = r + 1;
          break;
        }
      }
    }
    const keep = this.#keep;
    keep.fill(0);
    for (let r = 0; r < kept; r++) keep[ids[r]] = 1;
    let total = 0;
    let last = 0;
    for (let i = 0; i < V; i++) {
      if (keep[i]) {
        total += p[i];
        last = i;
      }
    }
    const target = u * total;
    let acc = 0;
    for (let i = 0; i < V; i++) {
      if (!keep[i]) continue;
      acc += p[i];
      if (acc > target) return i;
    }
    return last;
  }
}

/**
 * Log-softmax statistics of one slot's logits against a known token: negative log-likelihood
 * (nats) and predictive entropy (bits). Used by teacher forcing.
 */
export function nllAndEntropy(
  logits: Float32Array,
  target: number,
): { nll: number; entropyBits: number } {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const logZ = max + Math.log(sum);
  let h = 0;
  for (let i = 0; i < logits.length; i++) {
    const lp = logits[i] - logZ;
    h -= Math.exp(lp) * lp;
  }
  return { nll: logZ - logits[target], entropyBits: h / Math.LN2 };
}
