/**
 * The rejection-sampling step of speculative decoding (Leviathan et al. 2023; Chen et al. 2023),
 * as Speculative Jacobi Decoding and adaptive ZipAR use it: a draft token x drawn from q is kept
 * with probability min(1, p(x) / q(x)); otherwise a replacement is drawn from
 * norm(max(0, p - q)). Kept-or-replaced, the token is distributed exactly as p.
 *
 * p and q are the distributions TokenDrawer draws from (guidance, temperature, top-k, top-p),
 * written out by `TokenDrawer.probabilities`; a test checks that inverse-CDF draws from them
 * equal TokenDrawer's own draws.
 * @module
 */

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
