/**
 * Turning logits into one token: classifier-free guidance, temperature, top-k, top-p and an
 * inverse-CDF draw from an explicit uniform number, so a run can be replayed exactly (and the
 * Python reference sampler, given the same uniforms, picks the same tokens).
 *
 * The algorithm, step for step (python/sampler.py implements the same):
 * 1. guided logits (float64): `g = u + s * (c - u)` when guidance is on, else `g = c`;
 * 2. `z = g / temperature`; `p_i = exp(z_i - max z)` (unnormalised, float64);
 * 3. top-k (k > 0 and k < V): keep the k largest p_i, ties broken by the lower id;
 * 4. top-p (p < 1): sort the kept ids by p descending (lower id first on ties), keep the
 *    shortest prefix whose mass reaches `p * total`;
 * 5. draw: walk the kept ids in ascending id order, accumulating p; return the first id where
 *    the running sum exceeds `u * total` (the last kept id if rounding leaves none).
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
  readonly #weights: Float64Array;
  readonly #ids: Int32Array;
  readonly #keep: Uint8Array;
  readonly vocab: number;

  /** @param vocab vocabulary size V */
  constructor(vocab: number) {
    this.vocab = vocab;
    this.#weights = new Float64Array(vocab);
    this.#ids = new Int32Array(vocab);
    this.#keep = new Uint8Array(vocab);
  }

  /**
   * Load the (guided) logits of one slot into the scratch weights: `cond` alone, or
   * `uncond + scale * (cond - uncond)` when `uncond` is given. Both are views of length V.
   */
  #load(cond: Float32Array, uncond: Float32Array | null, scale: number, temperature: number): void {
    const w = this.#weights;
    const V = this.vocab;
    let max = -Infinity;
    for (let i = 0; i < V; i++) {
      const c = cond[i];
      const g = uncond ? uncond[i] + scale * (c - uncond[i]) : c;
      const z = g / temperature;
      w[i] = z;
      if (z > max) max = z;
    }
    for (let i = 0; i < V; i++) w[i] = Math.exp(w[i] - max);
  }

  /**
   * Draw one token id. `cond` (and `uncond` for guidance) are the logits of one slot.
   * @param u uniform number in [0, 1) that decides the draw
   */
  draw(
    cond: Float32Array,
    uncond: Float32Array | null,
    scale: number,
    options: SamplingOptions,
    u: number,
  ): number {
    this.#load(cond, uncond, scale, options.temperature);
    const w = this.#weights;
    const V = this.vocab;
    const keep = this.#keep;
    const filtered = (options.topK > 0 && options.topK < V) || options.topP < 1;
    if (!filtered) {
      let total = 0;
      for (let i = 0; i < V; i++) total += w[i];
      const target = u * total;
      let acc = 0;
      for (let i = 0; i < V; i++) {
        acc += w[i];
        if (acc > target) return i;
      }
      return V - 1;
    }
    // Rank ids by weight, descending, lower id first on ties.
    const ids = this.#ids;
    for (let i = 0; i < V; i++) ids[i] = i;
    ids.sort((a, b) => (w[b] - w[a]) || (a - b));
    let kept = options.topK > 0 && options.topK < V ? options.topK : V;
    if (options.topP < 1) {
      let mass = 0;
      for (let r = 0; r < kept; r++) mass += w[ids[r]];
      const goal = options.topP * mass;
      let acc = 0;
      let r = 0;
      while (r < kept) {
        acc += w[ids[r]];
        r++;
        if (acc >= goal) break;
      }
      kept = r;
    }
    keep.fill(0);
    let total = 0;
    let last = ids[0];
    for (let r = 0; r < kept; r++) keep[ids[r]] = 1;
    for (let i = 0; i < V; i++) {
      if (keep[i]) {
        total += w[i];
        last = i;
      }
    }
    const target = u * total;
    let acc = 0;
    for (let i = 0; i < V; i++) {
      if (!keep[i]) continue;
      acc += w[i];
      if (acc > target) return i;
    }
    return last;
  }

  /**
   * Entropy in bits of the distribution the last {@link draw} sampled from, before filtering
   * (the model's guided, tempered predictive distribution).
   */
  lastEntropyBits(): number {
    const w = this.#weights;
    let total = 0;
    for (let i = 0; i < this.vocab; i++) total += w[i];
    let h = 0;
    for (let i = 0; i < this.vocab; i++) {
      if (w[i] > 0) {
        const p = w[i] / total;
        h -= p * Math.log2(p);
      }
    }
    return h;
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
