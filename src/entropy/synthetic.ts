/**
 * Synthetic token fields with known dependency, for tests and demonstrations.
 *
 * The comb field: on an H x W grid with K codes, column 0 is a Markov chain down the rows and
 * every row is a Markov chain to the right starting at its column-0 cell. Each link copies its
 * parent with probability ρ (ρ_v down column 0, ρ_h along rows), else draws uniformly from K
 * codes. Every cell is uniform (H = log2 K), and because the links form a tree, two cells depend
 * only through the path between them: the chance that the path copies all the way is
 * κ = ρ_v^|r1 − r2| · ρ_h^(c1 + c2) for different rows and κ = ρ_h^|c1 − c2| within a row, and
 * H(X_j | X_i) = h(κ) = −q log2 q − (K − 1) p log2 p with q = κ + (1 − κ)/K, p = (1 − κ)/K.
 * @module
 */
import { Rng } from "../util/rng.ts";
import type { TokenSet } from "./tokens.ts";

/** Parameters of {@link combField}. */
export interface CombFieldOptions {
  /** Grid rows. */
  height: number;
  /** Grid columns. */
  width: number;
  /** Codes K. */
  vocabSize: number;
  /** Number of grids N. */
  count: number;
  /** Copy probability along rows. */
  rhoH: number;
  /** Copy probability down column 0. */
  rhoV: number;
  /** PRNG seed. */
  seed: number;
}

/** Sample N comb-field grids (module docs) as a {@link TokenSet}. */
export function combField(o: CombFieldOptions): TokenSet {
  const rng = new Rng(o.seed);
  const { height: h, width: w, vocabSize: k, count } = o;
  const tokens = new Uint16Array(count * h * w);
  for (let n = 0; n < count; n++) {
    const base = n * h * w;
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const i = base + r * w + c;
        if (r === 0 && c === 0) tokens[i] = rng.int(k);
        else if (c === 0) tokens[i] = rng.next() < o.rhoV ? tokens[i - w] : rng.int(k);
        else tokens[i] = rng.next() < o.rhoH ? tokens[i - 1] : rng.int(k);
      }
    }
  }
  return { tokens, count, grid: { frames: 1, height: h, width: w }, vocabSize: k };
}

/** Conditional entropy h(κ) in bits of a K-ary symmetric channel that copies with prob. κ. */
export function symmetricChannelEntropy(kappa: number, vocabSize: number): number {
  const q = kappa + (1 - kappa) / vocabSize;
  const p = (1 - kappa) / vocabSize;
  const term = (x: number) => (x > 0 ? -x * Math.log2(x) : 0);
  return term(q) + (vocabSize - 1) * term(p);
}

/** Exact H(X_j | X_i) in bits of the comb field for cells i and j (flat indices). */
export function combFieldConditionalEntropy(o: CombFieldOptions, i: number, j: number): number {
  if (i === j) return 0;
  const [r1, c1, r2, c2] = [
    Math.floor(i / o.width),
    i % o.width,
    Math.floor(j / o.width),
    j % o.width,
  ];
  const kappa = r1 === r2
    ? o.rhoH ** Math.abs(c1 - c2)
    : o.rhoV ** Math.abs(r1 - r2) * o.rhoH ** (c1 + c2);
  return symmetricChannelEntropy(kappa, o.vocabSize);
}
