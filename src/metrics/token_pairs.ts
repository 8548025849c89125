/**
 * Token-pair statistics: how far the joint distribution of neighbouring codes in generated grids
 * is from the real one.
 *
 * For an offset (dy, dx) the pair histogram counts, over every grid and every cell (r, c) whose
 * neighbour (r + dy, c + dx) is inside the grid, the pair (a, b) of the two codes, stored sparsely
 * under the key a * K + b. Video clips (grids with `frames` > 1) count spatial offsets inside
 * every frame, and an offset may also step `dt` frames ahead: (f, r, c) -> (f + dt, r + dy, c + dx)
 * ({@link TEMPORAL} is the same cell in the next frame). The Jensen–Shannon divergence (in bits, 0 for equal distributions,
 * 1 for disjoint supports) between the generated and the real histograms is the score.
 *
 * Why this catches the damage naive parallel sampling does: when two adjacent cells are sampled
 * in the same step, each is drawn from its own marginal given the shared context, independently of
 * the other. Their joint distribution becomes (close to) the product of marginals, so code pairs
 * that never sit side by side in real pictures (a stroke that breaks off, an edge whose two halves
 * disagree) appear, while the distribution of single codes, and often global picture features,
 * barely change. The pair histogram sees exactly that. Raster groups of n consecutive cells put
 * horizontal neighbours in one step (horizontal JS rises; vertical neighbours are in different
 * steps), while PAR's region-aligned groups keep all adjacent cells in different steps.
 *
 * Finite samples: K = 1024 codes give about a million possible pairs, more than a few hundred
 * grids fill, so two samples of the same distribution still differ (JS > 0). Compare against a
 * floor (e.g. real val against a same-sized real train subset), and/or coarse-grain codes first
 * (see {@link coarseCodeMap}): fewer groups, denser histograms, smaller bias.
 * @module
 */
import { framesOf, type TokenGridsLike } from "../media/batches.ts";
import { clusterCodebook } from "../tokenizer/clusters.ts";

/**
 * A grid offset from a cell to its neighbour: (dy rows down, dx columns right), and for clips
 * optionally dt frames ahead.
 */
export interface PairOffset {
  /** Rows down (may be negative). */
  dy: number;
  /** Columns right (may be negative). */
  dx: number;
  /** Frames ahead (may be negative; default 0: both cells in the same frame). */
  dt?: number;
}

/** The right-hand neighbour. */
export const HORIZONTAL: PairOffset = { dy: 0, dx: 1 };
/** The neighbour below. */
export const VERTICAL: PairOffset = { dy: 1, dx: 0 };
/** The same cell in the next frame (clips only). */
export const TEMPORAL: PairOffset = { dy: 0, dx: 0, dt: 1 };

/** A sparse histogram of code pairs for one offset. */
export interface PairHistogram {
  /** The offset counted. */
  offset: PairOffset;
  /** Number of codes K (after coarse-graining, the number of groups); keys are a * K + b. */
  codes: number;
  /** Count per pair key. */
  counts: Map<number, number>;
  /** Total number of pairs counted. */
  total: number;
}

/** Settings of {@link pairHistogram} and {@link tokenPairDivergence}. */
export interface PairOptions {
  /** Number of codes K (every token must be below it). */
  vocabSize: number;
  /**
   * Optional coarse-graining: code -> group index (length K). Pairs are then counted over groups.
   * See {@link coarseCodeMap}.
   */
  codeMap?: ArrayLike<number>;
}

function checkGrids(grids: TokenGridsLike, name: string): void {
  const { n, height, width, tokens } = grids;
  const frames = framesOf(grids);
  for (
    const [k, v] of [["n", n], ["frames", frames], ["height", height], ["width", width]] as const
  ) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`${name}: ${k} must be a positive integer, got ${v}`);
    }
  }
  if (tokens.length !== n * frames * height * width) {
    throw new RangeError(
      frames === 1
        ? `${name}: tokens has ${tokens.length} entries, expected n*height*width = ${
          n * height * width
        }`
        : `${name}: tokens has ${tokens.length} entries, expected n*frames*height*width = ${
          n * frames * height * width
        }`,
    );
  }
}

/** Group count and lookup for the options (identity when no map is given). */
function codeGroups(options: PairOptions): { groups: number; map: (code: number) => number } {
  const k = options.vocabSize;
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`vocabSize must be a positive integer, got ${k}`);
  }
  const cm = options.codeMap;
  if (!cm) return { groups: k, map: (c) => c };
  if (cm.length !== k) {
    throw new RangeError(`codeMap has ${cm.length} entries; expected one per code (${k})`);
  }
  let groups = 0;
  for (let i = 0; i < cm.length; i++) {
    if (!Number.isInteger(cm[i]) || cm[i] < 0) {
      throw new RangeError(`codeMap[${i}] = ${cm[i]} is not a non-negative integer`);
    }
    groups = Math.max(groups, cm[i] + 1);
  }
  return { groups, map: (c) => cm[c] };
}

/**
 * Count code pairs at one offset over a batch of grids (or clips: see {@link PairOffset.dt}).
 * @example
 * const h = pairHistogram(grids, HORIZONTAL, { vocabSize: 1024 });
 * h.total; // n * frames * height * (width - 1)
 * const t = pairHistogram(clips, TEMPORAL, { vocabSize: 1024 });
 * t.total; // n * (frames - 1) * height * width
 */
export function pairHistogram(
  grids: TokenGridsLike,
  offset: PairOffset,
  options: PairOptions,
): PairHistogram {
  checkGrids(grids, "grids");
  const { n, height, width, tokens } = grids;
  const frames = framesOf(grids);
  const { dy, dx } = offset;
  const dt = offset.dt ?? 0;
  if (
    !Number.isInteger(dy) || !Number.isInteger(dx) || !Number.isInteger(dt) ||
    (dy === 0 && dx === 0 && dt === 0)
  ) {
    throw new RangeError(
      `offset must be integers, not all 0; got (${dy}, ${dx}${dt === 0 ? "" : `, dt ${dt}`})`,
    );
  }
  if (Math.abs(dt) >= frames) {
    throw new RangeError(
      `offset dt = ${dt} needs clips of more than ${Math.abs(dt)} frames; the grids have ` +
        `${frames}. Fix: count frame offsets on clips only`,
    );
  }
  const { groups, map } = codeGroups(options);
  const k = options.vocabSize;
  const counts = new Map<number, number>();
  let total = 0;
  const f0 = Math.max(0, -dt);
  const f1 = Math.min(frames, frames - dt);
  const r0 = Math.max(0, -dy);
  const r1 = Math.min(height, height - dy);
  const c0 = Math.max(0, -dx);
  const c1 = Math.min(width, width - dx);
  const plane = height * width;
  const step = dt * plane + dy * width + dx;
  for (let g = 0; g < n; g++) {
    for (let f = f0; f < f1; f++) {
      const base = (g * frames + f) * plane;
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) {
          const at = base + r * width + c;
          const a = tokens[at];
          const b = tokens[at + step];
          if (!(a >= 0 && a < k && b >= 0 && b < k)) {
            throw new RangeError(
              `grids: token ${a >= 0 && a < k ? b : a} in grid ${g} near (${
                frames > 1 ? `frame ${f}, ` : ""
              }${r}, ${c}) is not in [0, ${k})`,
            );
          }
          const key = map(a) * groups + map(b);
          counts.set(key, (counts.get(key) ?? 0) + 1);
          total++;
        }
      }
    }
  }
  return { offset: dt === 0 ? { dy, dx } : { dy, dx, dt }, codes: groups, counts, total };
}

/**
 * Jensen–Shannon divergence in bits between two count histograms (normalised internally):
 * JS = (KL(P || M) + KL(Q || M)) / 2 with M = (P + Q) / 2; 0 when equal, 1 when disjoint.
 * @example
 * jensenShannonBits(new Map([[0, 5]]), new Map([[1, 2]])); // 1
 */
export function jensenShannonBits(p: Map<number, number>, q: Map<number, number>): number {
  let tp = 0;
  let tq = 0;
  for (const v of p.values()) tp += v;
  for (const v of q.values()) tq += v;
  if (!(tp > 0 && tq > 0)) throw new RangeError("both histograms need a positive total count");
  // Sum over the union of supports: a shared key contributes p log(p/m) + q log(q/m) (halved
  // below); a key in only one histogram contributes its probability times log2(2) = 1 bit, so
  // those are summed as integer counts first and divided once (exactly 1 bit when disjoint).
  let shared = 0;
  let onlyP = 0;
  let onlyQ = 0;
  for (const [key, cp] of p) {
    if (cp === 0) continue;
    const cq = q.get(key);
    if (cq === undefined || cq === 0) {
      onlyP += cp;
      continue;
    }
    const pp = cp / tp;
    const qq = cq / tq;
    const m = 0.5 * (pp + qq);
    shared += pp * Math.log2(pp / m) + qq * Math.log2(qq / m);
  }
  for (const [key, cq] of q) if (!p.get(key)) onlyQ += cq;
  const sum = shared + onlyP / tp + onlyQ / tq;
  // Rounding can push identical inputs a hair below 0 or disjoint ones above 1.
  return Math.min(1, Math.max(0, 0.5 * sum));
}

/** The divergence at one offset. */
export interface OffsetDivergence extends PairOffset {
  /** Jensen–Shannon divergence in bits. */
  js: number;
  /** Pairs counted in the generated grids. */
  generatedPairs: number;
  /** Pairs counted in the real grids. */
  realPairs: number;
}

/** Result of {@link tokenPairDivergence}. */
export interface PairDivergence {
  /** JS (bits) of the right-hand neighbour pairs. */
  horizontal: number;
  /** JS (bits) of the neighbour-below pairs. */
  vertical: number;
  /** Every offset asked for, in order (horizontal and vertical first). */
  perOffset: OffsetDivergence[];
}

/** Whether two offsets are the same (a missing `dt` is 0). */
export function sameOffset(a: PairOffset, b: PairOffset): boolean {
  return a.dy === b.dy && a.dx === b.dx && (a.dt ?? 0) === (b.dt ?? 0);
}

function describe(o: PairOffset): string {
  return `(${o.dy}, ${o.dx}${o.dt ? `, dt ${o.dt}` : ""})`;
}

/**
 * Jensen–Shannon divergence (bits) between the neighbour-pair distributions of generated and real
 * token grids: horizontal, vertical, and any extra offsets (e.g. diagonals, distance 2, or
 * {@link TEMPORAL} on clips). `real` may be precomputed histograms (from {@link pairHistogram})
 * to reuse across calls.
 * @example
 * const js = tokenPairDivergence(generated, valGrids, { vocabSize: 1024 });
 * console.log(js.horizontal, js.vertical);
 * const clips = tokenPairDivergence(sampled, valClips, { vocabSize: 1024, extraOffsets: [TEMPORAL] });
 * clips.perOffset[2].js; // same cell, next frame
 */
export function tokenPairDivergence(
  generated: TokenGridsLike,
  real: TokenGridsLike | PairHistogram[],
  options: PairOptions & { extraOffsets?: PairOffset[] },
): PairDivergence {
  const offsets = [HORIZONTAL, VERTICAL];
  for (const o of options.extraOffsets ?? []) {
    if (!offsets.some((x) => sameOffset(x, o))) offsets.push(o);
  }
  const perOffset = offsets.map((offset): OffsetDivergence => {
    const g = pairHistogram(generated, offset, options);
    let r: PairHistogram;
    if (Array.isArray(real)) {
      const found = real.find((h) => sameOffset(h.offset, offset));
      if (!found) {
        throw new RangeError(`no real histogram for offset ${describe(offset)}`);
      }
      if (found.codes !== g.codes) {
        throw new RangeError(
          `real histogram has ${found.codes} codes, generated ${g.codes}: use the same codeMap`,
        );
      }
      r = found;
    } else {
      r = pairHistogram(real, offset, options);
    }
    return {
      ...offset,
      js: jensenShannonBits(g.counts, r.counts),
      generatedPairs: g.total,
      realPairs: r.total,
    };
  });
  return { horizontal: perOffset[0].js, vertical: perOffset[1].js, perOffset };
}

/**
 * A coarse-graining of a codebook for the pair histograms: `clusterCodebook` (src/tokenizer) with
 * the pair divergence's setting of 30 Lloyd iterations (the README's "over 64 code groups"
 * numbers), returning code -> group with groups numbered densely by first appearance. With
 * `groups` well below K the pair histograms of a few hundred grids are dense enough for a low
 * finite-sample floor.
 * @example
 * const codeMap = coarseCodeMap(tokenizer.codebook, 12, 64); // 1024 codes of 2x2x3 -> 64 groups
 */
export function coarseCodeMap(
  codebook: ArrayLike<number>,
  dim: number,
  groups: number,
  seed = 0,
): Uint16Array {
  return clusterCodebook(codebook, dim, { groups, iterations: 30, seed }).codeMap;
}
