/**
 * Aggregates of a C x C pair matrix over geometry: the mean by spatial offset (dt, dy, dx) and by
 * Euclidean distance, over ordered pairs i ≠ j (so the offset map is point-symmetric).
 * @module
 */
import { cellCoords, cellCount, type GridLike } from "../media/grid.ts";
import { EntropyInputError } from "./tokens.ts";

/** Mean of a pair quantity at one offset (cell j − cell i). */
export interface OffsetMean {
  /** Frame offset (0 for images). */
  dt: number;
  /** Row offset. */
  dy: number;
  /** Column offset. */
  dx: number;
  /** Mean over the ordered pairs with this offset. */
  mean: number;
  /** Number of ordered pairs averaged. */
  pairs: number;
}

/** Mean of a pair quantity at one distance. */
export interface DistanceMean {
  /** Euclidean distance sqrt(dt² + dy² + dx²) in cells (bin centre when binned). */
  distance: number;
  /** Mean over the ordered pairs at this distance. */
  mean: number;
  /** Number of ordered pairs averaged. */
  pairs: number;
}

function checkMatrix(matrix: ArrayLike<number>, grid: GridLike): number {
  const c = cellCount(grid);
  if (matrix.length !== c * c) {
    throw new EntropyInputError(
      `pair matrix has ${matrix.length} entries, expected ${c} x ${c} for the grid`,
    );
  }
  return c;
}

/**
 * Mean of `matrix[i*C + j]` for every offset (cell j − cell i), i ≠ j, sorted by (dt, dy, dx).
 * @example
 * const near = meanByOffset(mi, { height: 24, width: 24 }).find((o) => o.dy === 0 && o.dx === 1);
 */
export function meanByOffset(matrix: ArrayLike<number>, grid: GridLike): OffsetMean[] {
  const c = checkMatrix(matrix, grid);
  const frames = grid.frames ?? 1;
  const { height: h, width: w } = grid;
  const sw = 2 * w - 1;
  const sh = 2 * h - 1;
  const sf = 2 * frames - 1;
  const sum = new Float64Array(sf * sh * sw);
  const cnt = new Float64Array(sf * sh * sw);
  const full = { frames, height: h, width: w };
  const coords = Array.from({ length: c }, (_, i) => cellCoords(full, i));
  for (let i = 0; i < c; i++) {
    const a = coords[i];
    for (let j = 0; j < c; j++) {
      if (i === j) continue;
      const b = coords[j];
      const k = ((b.frame - a.frame + frames - 1) * sh + (b.row - a.row + h - 1)) * sw +
        (b.col - a.col + w - 1);
      sum[k] += matrix[i * c + j];
      cnt[k]++;
    }
  }
  const out: OffsetMean[] = [];
  for (let k = 0; k < sum.length; k++) {
    if (cnt[k] === 0) continue;
    const dx = (k % sw) - (w - 1);
    const dy = (Math.floor(k / sw) % sh) - (h - 1);
    const dt = Math.floor(k / (sw * sh)) - (frames - 1);
    out.push({ dt, dy, dx, mean: sum[k] / cnt[k], pairs: cnt[k] });
  }
  return out;
}

/**
 * Mean of `matrix[i*C + j]` by Euclidean distance between cells i ≠ j, sorted by distance.
 * `binWidth` 0 (default) keeps every distinct distance (1, √2, 2, √5, ...); a positive width
 * averages distances in [k·w − w/2, k·w + w/2) into the bin centre k·w.
 */
export function meanByDistance(
  matrix: ArrayLike<number>,
  grid: GridLike,
  options: { binWidth?: number; maxDistance?: number } = {},
): DistanceMean[] {
  const bw = options.binWidth ?? 0;
  if (!(bw >= 0)) throw new EntropyInputError(`binWidth must be >= 0, got ${bw}`);
  const groups = new Map<number, { sum: number; pairs: number; distance: number }>();
  for (const o of meanByOffset(matrix, grid)) {
    const d2 = o.dt * o.dt + o.dy * o.dy + o.dx * o.dx;
    const d = Math.sqrt(d2);
    if (options.maxDistance !== undefined && d > options.maxDistance) continue;
    const key = bw > 0 ? Math.round(d / bw) : d2;
    let g = groups.get(key);
    if (!g) groups.set(key, g = { sum: 0, pairs: 0, distance: bw > 0 ? key * bw : d });
    g.sum += o.mean * o.pairs;
    g.pairs += o.pairs;
  }
  return [...groups.values()]
    .sort((a, b) => a.distance - b.distance)
    .map((g) => ({ distance: g.distance, mean: g.sum / g.pairs, pairs: g.pairs }));
}
