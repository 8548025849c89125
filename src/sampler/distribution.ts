/**
 * Turning logits into one token: classifier-free guidance, temperature, top-k, top-p and an
 * inverse-CDF draw from an explicit uniform number, so a run can be replayed exactly. It draws from
 * the same distribution, with the same inverse-CDF rule, as python/sampler.py:
 * 1. guided logits: `l = u + s * (c - u)` when guidance is on, else `l = c`;
 * 2. `z = l / temperature`; `e_v = exp(z_v - max z)`; `S` = the e summed in id order;
 * 3. top-k (0 < k < V): keep the k largest p = e / S (ties: lower id first); divide the kept p by
 *    their sum (summed in that ranked order);
 * 4. top-p (p < 1): rank the kept ids by (-p, id); keep ids up to and including the first at
 *    which the running sum of p reaches topP;
 * 5. draw: over the kept ids in ascending id order accumulate their mass; with total the final
 *    sum, return the first id whose running sum exceeds `u * total` (the last kept id if rounding
 *    leaves none). Without top-k/top-p the mass is e itself (total S), which skips a division
 *    pass; Python normalises first.
 * Float64 throughout. Rounding differs from NumPy's by an ulp or two (its exp and order of
 * operations are not V8's), so a draw can differ only when `u * total` lies within ~1e-15 of a
 * cumulative sum; the parity tests compare tokens up to the first draw within 1e-4 of one.
 * The exponential is {@link fastExp}: it sets the cost of a draw (V calls per token). A top-k up to
 * {@link PRESELECT_MAX_K} (without entropy recording) pre-selects the k largest logits with a heap
 * and exponentiates only those: the same distribution and rule, rounding differing in the last bits
 * (the renormalised top-k mass is formed without the division by the full sum, which cancels).
 * @module
 */

import { fastExp } from "./fast_exp.ts";
import { ManifestError } from "../util/errors.ts";

/**
 * Thrown by a draw whose logits are not usable: a NaN or +Infinity among them, or all -Infinity.
 * It costs nothing to detect (the exponentials' sum is then NaN), so every draw checks, and the
 * backends scan whole logits only at a cache's first step; the sampler adds the model, step and
 * slot to the message.
 */
export class NonFiniteLogitsError extends ManifestError {
  constructor() {
    super(
      "the model returned non-finite logits (NaN, +Infinity, or a row of -Infinity). Fix: the " +
        "graph computes non-finite values; check its export (fp16 overflow is a common cause) " +
        "and its weights",
    );
    this.name = "NonFiniteLogitsError";
  }
}

/** Top-k up to this size draws through the pre-selection path of {@link TokenDrawer.draw}. */
export const PRESELECT_MAX_K = 256;

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
  entropyBits: number = NaN;

  /**
   * Scratch for one vocabulary size; reuse it for every draw of a run.
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
   * Step 1 and z of step 2 for one slot: the guided, tempered logits z into the scratch buffer;
   * returns max z, or NaN when any z is NaN (a NaN logit), so that no later step can skip it.
   */
  #tempered(
    cond: Float32Array,
    uncond: Float32Array | null,
    scale: number,
    temperature: number,
  ): number {
    const p = this.#p;
    const V = this.vocab;
    const inv = 1 / temperature;
    let max = -Infinity;
    let nan = false;
    if (uncond) {
      for (let i = 0; i < V; i++) {
        const z = (uncond[i] + scale * (cond[i] - uncond[i])) * inv;
        p[i] = z;
        if (z > max) max = z;
        else if (z !== z) nan = true;
      }
    } else {
      for (let i = 0; i < V; i++) {
        const z = cond[i] * inv;
        p[i] = z;
        if (z > max) max = z;
        else if (z !== z) nan = true;
      }
    }
    return nan ? NaN : max;
  }

  /**
   * Steps 1-2 for one slot: e_v into the scratch buffer; returns S. With `recordEntropy`, also
   * sets {@link entropyBits}: H = (ln S - sum e_v (z_v - max) / S) / ln 2, from the same pass.
   * `cond` and `uncond` are views of length V.
   */
  #exponentials(
    cond: Float32Array,
    uncond: Float32Array | null,
    scale: number,
    temperature: number,
  ): number {
    const p = this.#p;
    const V = this.vocab;
    const max = this.#tempered(cond, uncond, scale, temperature);
    let sum = 0;
    if (this.#recordEntropy) {
      let weighted = 0;
      for (let i = 0; i < V; i++) {
        const d = p[i] - max;
        const e = fastExp(d);
        p[i] = e;
        sum += e;
        if (e > 0) weighted += e * d;
      }
      this.entropyBits = (Math.log(sum) - weighted / sum) / Math.LN2;
    } else {
      for (let i = 0; i < V; i++) {
        const e = fastExp(p[i] - max);
        p[i] = e;
        sum += e;
      }
    }
    // NaN or +Infinity anywhere, or no finite logit, leaves the sum NaN (never 0 or +Infinity:
    // the largest term is exp(0) = 1).
    if (!(sum >= 1)) throw new NonFiniteLogitsError();
    return sum;
  }

  /**
   * Steps 3-5 after {@link #exponentials}: the probabilities normalised in the scratch buffer,
   * top-k (renormalised) then top-p applied by rank; returns how many ids are kept, ranked
   * first in the id scratch (`ids[0 .. kept)`).
   */
  #filter(sum: number, options: SamplingOptions): number {
    const p = this.#p;
    const V = this.vocab;
    for (let i = 0; i < V; i++) p[i] /= sum;
    const ids = this.#ids;
    const byProbability = (a: number, b: number) => (p[b] - p[a]) || (a - b);
    for (let i = 0; i < V; i++) ids[i] = i;
    let kept = V;
    if (options.topK > 0 && options.topK < V) {
      ids.sort(byProbability);
      kept = options.topK;
      let total = 0;
      for (let r = 0; r < kept; r++) total += p[ids[r]];
      for (let r = 0; r < kept; r++) p[ids[r]] /= total;
    }
    if (options.topP < 1) {
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
    return kept;
  }

  /**
   * The distribution {@link draw} samples from, written into `out` (length V; zero outside the
   * top-k / top-p set; sums to 1): the target and proposal probabilities of speculative
   * decoding.
   * @param cond conditional logits [V]
   * @param uncond unconditional logits [V] when guidance is on, else null
   * @param scale guidance scale s
   */
  probabilities(
    cond: Float32Array,
    uncond: Float32Array | null,
    scale: number,
    options: SamplingOptions,
    out: Float64Array,
  ): Float64Array {
    const sum = this.#exponentials(cond, uncond, scale, options.temperature);
    const p = this.#p;
    const V = this.vocab;
    if (!(options.topK > 0 && options.topK < V) && !(options.topP < 1)) {
      for (let i = 0; i < V; i++) out[i] = p[i] / sum;
      return out;
    }
    const kept = this.#filter(sum, options);
    const ids = this.#ids;
    out.fill(0);
    for (let r = 0; r < kept; r++) out[ids[r]] = p[ids[r]];
    let total = 0;
    for (let i = 0; i < V; i++) total += out[i];
    for (let i = 0; i < V; i++) out[i] /= total;
    return out;
  }

  /**
   * {@link draw} with top-k pre-selection: the guided, tempered logits z in one pass; the k
   * largest by (z descending, id ascending) — the ranking of p, since exp is monotone — kept in
   * a min-heap; only those k are exponentiated (`exp(z - max)`, p = e / their sum, the renormalised
   * top-k mass of step 3 without the division by the full S, which cancels); then steps 4-5 as
   * in {@link #filter} and {@link draw}. The same distribution and rule; rounding differs from the
   * full path in the last bits (tests compare the two). Non-finite logits: NaN or +Infinity
   * anywhere make the sum of the kept mass NaN, as in the full path, so the draw throws.
   */
  #drawTopK(
    cond: Float32Array,
    uncond: Float32Array | null,
    scale: number,
    options: SamplingOptions,
    u: number,
  ): number {
    const V = this.vocab;
    const z = this.#p;
    const max = this.#tempered(cond, uncond, scale, options.temperature);
    if (!(max > -Infinity && max < Infinity)) throw new NonFiniteLogitsError();
    // Min-heap of the k best ids; the root is the worst kept (lowest z, then highest id).
    const k = options.topK;
    const heap = this.#ids;
    const worse = (a: number, b: number) => z[a] < z[b] || (z[a] === z[b] && a > b);
    let n = 0;
    for (let i = 0; i < V; i++) {
      if (n < k) {
        let c = n++;
        heap[c] = i;
        while (c > 0) {
          const parent = (c - 1) >> 1;
          if (!worse(heap[c], heap[parent])) break;
          [heap[c], heap[parent]] = [heap[parent], heap[c]];
          c = parent;
        }
      } else if (worse(heap[0], i)) {
        heap[0] = i;
        let c = 0;
        for (;;) {
          const l = 2 * c + 1;
          if (l >= n) break;
          const r = l + 1;
          const m = r < n && worse(heap[r], heap[l]) ? r : l;
          if (!worse(heap[m], heap[c])) break;
          [heap[c], heap[m]] = [heap[m], heap[c]];
          c = m;
        }
      }
    }
    // Rank the kept ids by (p descending, id ascending), as the full path's sort does.
    const ranked = heap.subarray(0, k).sort((a, b) => (z[b] - z[a]) || (a - b));
    let total = 0;
    for (let r = 0; r < k; r++) {
      const e = fastExp(z[ranked[r]] - max);
      z[ranked[r]] = e;
      total += e;
    }
    if (!(total >= 1)) throw new NonFiniteLogitsError();
    let kept = k;
    if (options.topP < 1) {
      let run = 0;
      for (let r = 0; r < k; r++) {
        run += z[ranked[r]] / total;
        if (run >= options.topP) {
          kept = r + 1;
          break;
        }
      }
    }
    // Inverse CDF over the kept ids in ascending id order.
    const byId = ranked.slice(0, kept).sort((a, b) => a - b);
    let mass = 0;
    for (let r = 0; r < kept; r++) mass += z[byId[r]];
    const target = u * mass;
    let acc = 0;
    for (let r = 0; r < kept; r++) {
      acc += z[byId[r]];
      if (acc > target) return byId[r];
    }
    return byId[kept - 1];
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
    const V = this.vocab;
    // A small top-k needs only the k largest logits exponentiated and no full sort.
    if (
      options.topK > 0 && options.topK <= PRESELECT_MAX_K && options.topK < V &&
      !this.#recordEntropy
    ) {
      return this.#drawTopK(cond, uncond, scale, options, u);
    }
    const sum = this.#exponentials(cond, uncond, scale, options.temperature);
    const p = this.#p;
    const topK = options.topK > 0 && options.topK < V;
    const topP = options.topP < 1;
    if (!topK && !topP) {
      const target = u * sum;
      let acc = 0;
      for (let i = 0; i < V; i++) {
        acc += p[i];
        if (acc > target) return i;
      }
      return V - 1;
    }
    const kept = this.#filter(sum, options);
    const ids = this.#ids;
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
  // One exponential per logit: with d = l - max and e = exp(d), S = sum e,
  // log Z = max + ln S and H = ln S - sum e d / S (nats).
  let sum = 0;
  let weighted = 0;
  for (let i = 0; i < logits.length; i++) {
    const d = logits[i] - max;
    const e = fastExp(d);
    sum += e;
    if (e > 0) weighted += e * d;
  }
  if (!(sum >= 1)) throw new NonFiniteLogitsError();
  const logZ = max + Math.log(sum);
  const h = Math.log(sum) - weighted / sum;
  return { nll: logZ - logits[target], entropyBits: h / Math.LN2 };
}
