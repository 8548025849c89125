/**
 * Exact nearest-code search for short vectors (patch codebooks: dim 12 for 2x2 RGB).
 *
 * Codes are sorted by their Euclidean norm. Since | ||x|| - ||c|| | <= ||x - c||, the search starts
 * at the codes whose norm is closest to the query's and walks outwards in both directions,
 * stopping once the norm gap alone exceeds the best distance found. In 12 dimensions this skips
 * most of the codebook, and the answer is exactly the brute-force one: the smallest squared
 * distance, ties broken by the lowest code index.
 *
 * Why the distances are exact: queries are integers 0..255 and codes float32, so each difference
 * has at most 24 significant bits, its square at most 48, and a sum of up to 32 such squares fits
 * a double's 53 bits exactly. Summation order therefore cannot change a result.
 * @module
 */

/** Fixed slack on the pruning bound so rounding in the norms never drops a true candidate. */
const PRUNE_SLACK = 1e-6;

/** Precomputed search structure over `k` codes of `dim` values each. */
export class NearestCodeIndex {
  /** Vector length. */
  readonly dim: number;
  /** Number of codes. */
  readonly k: number;
  #codes: Float64Array; // sorted by norm, k * dim
  #norms: Float64Array; // sorted ascending
  #order: Int32Array; // sorted position -> original code index
  #query: Float64Array;

  /**
   * Build the index over `codes` (k * dim values, code j at [j * dim, (j + 1) * dim)).
   * @example
   * const index = new NearestCodeIndex(codebook, 12);
   * const j = index.nearest(patch, 0);
   */
  constructor(codes: ArrayLike<number>, dim: number) {
    if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`dim must be > 0, got ${dim}`);
    if (codes.length % dim !== 0 || codes.length === 0) {
      throw new RangeError(`codes length ${codes.length} is not a positive multiple of ${dim}`);
    }
    this.dim = dim;
    this.k = codes.length / dim;
    const norms = new Float64Array(this.k);
    for (let j = 0; j < this.k; j++) {
      let s = 0;
      for (let t = 0; t < dim; t++) {
        const v = codes[j * dim + t];
        s += v * v;
      }
      norms[j] = Math.sqrt(s);
    }
    const order = Array.from({ length: this.k }, (_, j) => j);
    order.sort((a, b) => norms[a] - norms[b] || a - b);
    this.#order = Int32Array.from(order);
    this.#codes = new Float64Array(this.k * dim);
    this.#norms = new Float64Array(this.k);
    for (let p = 0; p < this.k; p++) {
      const j = order[p];
      this.#norms[p] = norms[j];
      for (let t = 0; t < dim; t++) this.#codes[p * dim + t] = codes[j * dim + t];
    }
    this.#query = new Float64Array(dim);
  }

  /**
   * Index of the code nearest to the vector `x[offset .. offset + dim)` (squared Euclidean
   * distance, lowest index on ties). Use {@link lastDistance} for its squared distance.
   */
  nearest(x: ArrayLike<number>, offset: number): number {
    const dim = this.dim;
    const q = this.#query;
    let s = 0;
    for (let t = 0; t < dim; t++) {
      const v = x[offset + t];
      q[t] = v;
      s += v * v;
    }
    return this.#search(Math.sqrt(s));
  }

  /** Squared distance of the last {@link nearest} answer. */
  lastDistance = 0;

  #search(nx: number): number {
    const dim = this.dim;
    const q = this.#query;
    const codes = this.#codes;
    const norms = this.#norms;
    const order = this.#order;
    const k = this.k;
    // First sorted position with norm >= nx (binary search).
    let lo = 0;
    let hi = k;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (norms[mid] < nx) lo = mid + 1;
      else hi = mid;
    }
    let up = lo; // next candidate going up
    let down = lo - 1; // next candidate going down
    let best = Infinity;
    let bestIdx = -1;
    let upOpen = up < k;
    let downOpen = down >= 0;
    while (upOpen || downOpen) {
      // Visit the side whose next norm is closer to the query's norm.
      let p: number;
      let gap: number;
      if (upOpen && (!downOpen || norms[up] - nx <= nx - norms[down])) {
        p = up;
        gap = norms[up] - nx;
      } else {
        p = down;
        gap = nx - norms[down];
      }
      if (gap * gap > best + PRUNE_SLACK) {
        // Every remaining code on this side is at least this far; so is the other side's next,
        // which we chose not to visit because its gap is larger or equal.
        break;
      }
      const base = p * dim;
      let d = 0;
      for (let t = 0; t < dim; t++) {
        const diff = q[t] - codes[base + t];
        d += diff * diff;
      }
      const j = order[p];
      if (d < best || (d === best && j < bestIdx)) {
        best = d;
        bestIdx = j;
      }
      if (p === up) {
        up++;
        upOpen = up < k;
      } else {
        down--;
        downOpen = down >= 0;
      }
    }
    this.lastDistance = best;
    return bestIdx;
  }
}

/**
 * Brute-force nearest code (reference for tests): smallest squared distance, lowest index on ties.
 */
export function nearestBruteForce(
  codes: ArrayLike<number>,
  dim: number,
  x: ArrayLike<number>,
  offset: number,
): number {
  const k = codes.length / dim;
  let best = Infinity;
  let bestIdx = -1;
  for (let j = 0; j < k; j++) {
    let d = 0;
    for (let t = 0; t < dim; t++) {
      const diff = x[offset + t] - codes[j * dim + t];
      d += diff * diff;
    }
    if (d < best) {
      best = d;
      bestIdx = j;
    }
  }
  return bestIdx;
}
