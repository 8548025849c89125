/**
 * The rejection-sampling step of speculative decoding (Leviathan et al. 2023; Chen et al. 2023),
 * as Speculative Jacobi Decoding and adaptive ZipAR use it: a draft token x drawn from q is kept
 * with probability min(1, p(x) / q(x)); otherwise a replacement is drawn from
 * norm(max(0, p - q)). Kept-or-replaced, the token is distributed exactly as p.
 *
 * p and q are the distributions {@link TokenDrawer} draws from (guidance, temperature, top-k,
 * top-p). TokenDrawer only draws; {@link DistributionTable} writes the same distribution out as
 * a probability vector (the steps of distribution.ts's module doc, float64, `fastExp`), and a
 * test checks that inverse-CDF draws from it equal TokenDrawer's draws.
 * @module
 */
import { fastExp } from "./fast_exp.ts";
import type { SamplingOptions } from "./distribution.ts";

/** Writes the distribution TokenDrawer samples from as a probability vector. */
export class DistributionTable {
  readonly #e: Float64Array;
  readonly #ids: Int32Array;
  /** Vocabulary size V. */
  readonly vocab: number;

  /**
   * Scratch for one vocabulary size.
   * @param vocab vocabulary size V
   */
  constructor(vocab: number) {
    this.vocab = vocab;
    this.#e = new Float64Array(vocab);
    this.#ids = new Int32Array(vocab);
  }

  /**
   * The probabilities of one slot's guided, tempered, filtered distribution into `out` (length
   * V; zero outside the top-k / top-p set; sums to 1).
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
    const V = this.vocab;
    const p = this.#e;
    const inv = 1 / options.temperature;
    let max = -Infinity;
    for (let i = 0; i < V; i++) {
      const z = (uncond ? uncond[i] + scale * (cond[i] - uncond[i]) : cond[i]) * inv;
      p[i] = z;
      if (z > max) max = z;
    }
    let sum = 0;
    for (let i = 0; i < V; i++) {
      const e = fastExp(p[i] - max);
      p[i] = e;
      sum += e;
    }
    const topK = options.topK > 0 && options.topK < V;
    const topP = options.topP < 1;
    if (!topK && !topP) {
      for (let i = 0; i < V; i++) out[i] = p[i] / sum;
      return out;
    }
    if (options.topK === 1) {
      // Greedy: the most likely id (the lowest among ties), as the ranked sort would keep.
      let best = 0;
      for (let i = 1; i < V; i++) if (p[i] > p[best]) best = i;
      out.fill(0);
      out[best] = 1;
      return out;
    }
    for (let i = 0; i < V; i++) p[i] /= sum;
    const ids = this.#ids;
    const byProbability = (a: number, b: number) => (p[b] - p[a]) || (a - b);
    for (let i = 0; i < V; i++) ids[i] = i;
    let kept = V;
    if (topK) {
      ids.sort(byProbability);
      kept = options.topK;
      let s = 0;
      for (let r = 0; r < kept; r++) s += p[ids[r]];
      for (let r = 0; r < kept; r++) p[ids[r]] /= s;
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
    out.fill(0);
    for (let r = 0; r < kept; r++) out[ids[r]] = p[ids[r]];
    let total = 0;
    for (let i = 0; i < V; i++) total += out[i];
    for (let i = 0; i < V; i++) out[i] /= total;
    return out;
  }
}

/**
 * The draw rule of TokenDrawer on a probability vector: the first id (ascending) whose running
 * sum exceeds `u * total` (the last id with mass if rounding leaves none).
 */
export function drawFromTable(p: ArrayLike<number>, u: number): number {
  let total = 0;
  let last = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] > 0) {
      total += p[i];
      last = i;
    }
  }
  const target = u * total;
  let acc = 0;
  for (let i = 0; i < p.length; i++) {
    acc += p[i];
    if (p[i] > 0 && acc > target) return i;
  }
  return last;
}

/**
 * A draft's proposal distribution: a probability vector, or a point mass on the draft token
 * itself (`null`; SJD's freshly initialised drafts are given tokens, not samples).
 */
export type Proposal = Float64Array | null;

/** q(x) of a proposal. */
function proposalAt(q: Proposal, x: number, draft: number): number {
  return q === null ? (x === draft ? 1 : 0) : q[x];
}

/**
 * Speculative acceptance: keep the draft when `u < min(1, p(x) / q(x))`.
 * @param p target probabilities [V]
 * @param q the distribution the draft was drawn from (null: a point mass on it)
 * @param draft the draft token x
 * @param u a uniform number in [0, 1)
 */
export function acceptDraft(p: ArrayLike<number>, q: Proposal, draft: number, u: number): boolean {
  const qx = proposalAt(q, draft, draft);
  const ratio = qx > 0 ? p[draft] / qx : (p[draft] > 0 ? 1 : 0);
  return u < Math.min(1, ratio);
}

/**
 * The replacement after a rejection: a draw (by the inverse-CDF rule, from `u`) from
 * norm(max(0, p - q)). When that is empty (p = q up to rounding: a rejection then has
 * probability ~0), it draws from p.
 */
export function drawResidual(
  p: ArrayLike<number>,
  q: Proposal,
  draft: number,
  u: number,
): number {
  let total = 0;
  for (let i = 0; i < p.length; i++) {
    const r = p[i] - proposalAt(q, i, draft);
    if (r > 0) total += r;
  }
  if (!(total > 1e-12)) return drawFromTable(p, u);
  const target = u * total;
  let acc = 0;
  let last = 0;
  for (let i = 0; i < p.length; i++) {
    const r = p[i] - proposalAt(q, i, draft);
    if (r <= 0) continue;
    acc += r;
    last = i;
    if (acc > target) return i;
  }
  return last;
}
