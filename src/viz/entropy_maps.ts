/**
 * Figures of the entropy probes: per-cell heat maps (conditional entropy given a reference cell,
 * like the paper's Fig. 9; entropy increase with step numbers, like Fig. 10), mutual information
 * by offset and against distance, and the schedule dependency cost.
 * All return a {@link Figure}; save with `saveFigure`, show in notebooks with `showFigure` or
 * `displayFigure`.
 * @module
 */
import { Plot } from "../deps/plot.ts";
import type { DistanceMean, OffsetMean } from "../entropy/aggregate.ts";
import type { EntropyIncrease } from "../entropy/increase.ts";
import type { ScheduleCost, StepsLike } from "../entropy/schedule_cost.ts";
import { cellCoords, cellCount, type GridLike } from "../media/grid.ts";
import { cellRect, cellScales, cellText } from "./_cells.ts";
import { type Figure, vstack } from "./compose.ts";
import { plotFigure } from "./render.ts";

/** One panel of a {@link cellMapsFigure}: a value per cell, optional marks and labels. */
export interface CellMapPanel {
  /** Panel title (drawn above it). */
  title: string;
  /** One value per cell (flat index). */
  values: ArrayLike<number>;
  /** Cells to outline (e.g. the reference cell). */
  marked?: readonly number[];
  /** Text per cell (e.g. 1-based step numbers); same length as values. */
  labels?: ArrayLike<string | number>;
}

/** Options of {@link cellMapsFigure} and the figures built on it. */
export interface CellMapOptions {
  /** Title above all panels. */
  title?: string;
  /** Colour legend label. */
  legend?: string;
  /** Observable Plot colour scheme (default "viridis"). */
  scheme?: string;
  /** Colour domain [min, max] shared by all panels (default: the data's range). */
  domain?: [number, number];
  /** Centre the colour scale on this value (diverging schemes), default none. */
  pivot?: number;
  /** Reverse the colour scheme. */
  reverse?: boolean;
  /** Edge of a cell in pixels (default 12; 20+ when labels are drawn). */
  cellSize?: number;
  /** Label font size in pixels (default: from cellSize). */
  fontSize?: number;
  /** Panels per row (default: all in one row, at most 4). */
  columns?: number;
}

interface CellDatum {
  panel: string;
  frame: number;
  row: number;
  col: number;
  value: number;
  label: string;
}

/** A marked (outlined) cell of a panel. */
interface OutlineDatum {
  panel: string;
  frame: number;
  row: number;
  col: number;
}

/** Colour-scale options as Plot takes them (a subset, passed through). */
type ColorScale = Record<string, unknown> & { domain: [number, number]; label?: string };

/**
 * A horizontal colour bar for a continuous scale, drawn with rect marks (Plot's own ramp
 * legend paints on a canvas, which the server-side DOM lacks).
 */
function colorBar(scale: ColorScale, width: number): Figure {
  const [d0, d1] = scale.domain;
  const steps = 96;
  // Bins even in the scale's transformed space, so a symlog bar is not all one end.
  const k = Number(scale.constant ?? 1);
  const symlog = scale.type === "symlog";
  const fwd = (x: number) => (symlog ? Math.sign(x) * Math.log1p(Math.abs(x / k)) : x);
  const inv = (y: number) => (symlog ? Math.sign(y) * Math.expm1(Math.abs(y)) * k : y);
  const [t0, t1] = [fwd(d0), fwd(d1)];
  const bins = Array.from({ length: steps }, (_, i) => {
    const a = inv(t0 + ((t1 - t0) * i) / steps);
    const b = inv(t0 + ((t1 - t0) * (i + 1)) / steps);
    return { a, b, v: inv(t0 + ((t1 - t0) * (i + 0.5)) / steps) };
  });
  const { legend: _l, label, width: _w, ...color } = scale;
  return plotFigure(
    {
      width,
      height: 46,
      marginTop: 16,
      marginBottom: 18,
      marginLeft: 12,
      marginRight: 16,
      x: {
        type: symlog ? "symlog" : "linear",
        constant: k,
        domain: [d0, d1],
        label: null,
        ticks: symlog ? symlogTicks(d0, d1, k) : 5,
        tickSize: 4,
      },
      y: { axis: null, domain: [0, 1] },
      color,
      marks: [
        Plot.rect(bins, { x1: "a", x2: "b", y1: 0, y2: 1, fill: "v" }),
        Plot.text([label ?? ""], {
          frameAnchor: "top-left",
          dy: -14,
          text: (d: string) => d,
          fontSize: 11,
        }),
      ],
    } as Parameters<typeof plotFigure>[0],
  );
}

/** Ticks 0 and powers of ten (up to the top) for a symlog bar, so labels never crowd. */
function symlogTicks(d0: number, d1: number, k: number): number[] {
  const ticks = d0 <= 0 && d1 >= 0 ? [0] : [];
  for (let e = Math.floor(Math.log10(Math.max(k, 1e-12))); 10 ** e <= d1; e++) {
    if (10 ** e >= d0 && 10 ** e >= k) ticks.push(10 ** e);
  }
  if (ticks.length < 3) ticks.push(d1);
  return ticks;
}

/** Panel titles made unique: a repeated title gets its 1-based panel number. */
function uniqueTitles(panels: readonly CellMapPanel[]): string[] {
  return panels.map((p, i) =>
    panels.slice(0, i).some((q) => q.title === p.title) ? `${p.title} (${i + 1})` : p.title
  );
}

/**
 * Every panel's cells as Plot data (checked against the grid), its marked cells, and the range
 * of the finite values ([0, 1] when there are none).
 */
function panelCells(
  panels: readonly CellMapPanel[],
  titles: readonly string[],
  grid: GridLike,
): { data: CellDatum[]; outlines: OutlineDatum[]; range: [number, number] } {
  const cells = cellCount(grid);
  const data: CellDatum[] = [];
  const outlines: OutlineDatum[] = [];
  let lo = Infinity;
  let hi = -Infinity;
  panels.forEach((p, i) => {
    if (p.values.length !== cells) {
      throw new Error(`panel "${p.title}" has ${p.values.length} values, the grid ${cells} cells`);
    }
    for (let cell = 0; cell < cells; cell++) {
      const v = p.values[cell];
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      data.push({
        panel: titles[i],
        ...cellCoords(grid, cell),
        value: v,
        label: p.labels ? String(p.labels[cell]) : "",
      });
    }
    for (const m of p.marked ?? []) outlines.push({ panel: titles[i], ...cellCoords(grid, m) });
  });
  return { data, outlines, range: Number.isFinite(lo) ? [lo, hi] : [0, 1] };
}

/**
 * Where each (panel, frame) goes: x facets hold panel and frame together, `perRow` of them a row
 * (so a video panel shows its frames side by side), y facets are the rows; plus the title text of
 * every facet.
 */
interface FacetLayout {
  /** Facets per row (panels per row x frames). */
  perRow: number;
  /** Rows of facets. */
  rows: number;
  /** x facet of a datum. */
  fx: (d: { panel: string; frame: number }) => number;
  /** y facet of a datum. */
  fy: (d: { panel: string; frame: number }) => number;
  /** One title per facet. */
  titles: { fx: number; fy: number; text: string }[];
}

function facetLayout(titles: readonly string[], frames: number, columns: number): FacetLayout {
  const key = (panel: string, frame: number) => `${panel}\u0000${frame}`;
  const keys = titles.flatMap((t) => Array.from({ length: frames }, (_, f) => key(t, f)));
  const perRow = columns * frames;
  const index = (d: { panel: string; frame: number }) => keys.indexOf(key(d.panel, d.frame));
  return {
    perRow,
    rows: Math.ceil(titles.length / columns),
    fx: (d) => index(d) % perRow,
    fy: (d) => Math.floor(index(d) / perRow),
    titles: keys.map((k, i) => {
      const [t, f] = k.split("\u0000");
      return {
        fx: i % perRow,
        fy: Math.floor(i / perRow),
        text: frames > 1 ? `${t}, frame ${Number(f) + 1}` : t,
      };
    }),
  };
}

/** The shared colour scale: linear, or diverging around `options.pivot` (clamped, symmetric). */
function cellColorScale(options: CellMapOptions, domain: [number, number]): ColorScale {
  const scale: ColorScale = {
    type: "linear",
    scheme: options.scheme ?? "viridis",
    domain,
    reverse: options.reverse ?? false,
    label: options.legend ?? "value",
  };
  if (options.pivot !== undefined) {
    scale.type = "diverging";
    scale.pivot = options.pivot;
    scale.symmetric = true;
    scale.clamp = true;
  }
  return scale;
}

/** Whether a value's colour is dark, so its label is drawn white (which end depends on the scheme). */
function darkValue(options: CellMapOptions, domain: [number, number]): (v: number) => boolean {
  const [d0, d1] = domain;
  const pivot = options.pivot;
  const darkLow = ["viridis", "magma", "inferno", "plasma", "cividis", "turbo"].includes(
    options.scheme ?? "viridis",
  ) !== Boolean(options.reverse);
  return (v) => {
    if (pivot !== undefined) {
      const span = Math.max(Math.abs(d0 - pivot), Math.abs(d1 - pivot)) || 1;
      return Math.abs(v - pivot) / span > 0.6;
    }
    const t = (v - d0) / (d1 - d0 || 1);
    return darkLow ? t < 0.5 : t > 0.6;
  };
}

/** The marks of the heat maps: cells, facet titles, then cell labels and outlines when there are any. */
function cellMapMarks(
  cells: { data: CellDatum[]; outlines: OutlineDatum[] },
  layout: FacetLayout,
  label: { size: number; isDark: (v: number) => boolean } | null,
): Plot.Markish[] {
  const { fx, fy } = layout;
  const marks: Plot.Markish[] = [
    cellRect(cells.data, {
      fill: "value",
      // Without labels, stroke each cell in its own colour to hide antialiasing seams.
      stroke: label ? "white" : "value",
      strokeWidth: label ? 0.5 : 0.6,
      fx,
      fy,
    }),
    Plot.text(layout.titles, {
      frameAnchor: "top",
      dy: -14,
      text: "text",
      fx: "fx",
      fy: "fy",
      fontSize: 12,
      fontWeight: "bold",
    }),
  ];
  if (label) {
    marks.push(cellText(cells.data.filter((d) => d.label !== ""), {
      text: "label",
      fill: (d: CellDatum) => (label.isDark(d.value) ? "white" : "black"),
      fontSize: label.size,
      fx,
      fy,
    }));
  }
  if (cells.outlines.length > 0) {
    marks.push(cellRect(cells.outlines, {
      fill: "none",
      stroke: "red",
      strokeWidth: 2.5,
      fx,
      fy,
    }));
  }
  return marks;
}

/**
 * Heat maps of per-cell values on a grid, one panel each, with a shared colour scale; marked
 * cells get a red outline, labelled cells a centred text. Video grids put frames side by side
 * inside a panel.
 * @example
 * const fig = cellMapsFigure([{ title: "H(X_j)", values: entropy }], { height: 24, width: 24 });
 */
export function cellMapsFigure(
  panels: readonly CellMapPanel[],
  grid: GridLike,
  options: CellMapOptions = {},
): Figure {
  if (panels.length === 0) throw new Error("cellMapsFigure needs at least one panel");
  const titles = uniqueTitles(panels);
  const cells = panelCells(panels, titles, grid);
  const [lo, hi] = cells.range;
  const domain = options.domain ?? [lo, hi === lo ? lo + 1 : hi];
  const hasLabels = panels.some((p) => p.labels);
  const size = options.cellSize ?? (hasLabels ? 22 : 12);
  const columns = Math.max(
    1,
    Math.min(options.columns ?? Math.min(4, panels.length), panels.length),
  );
  const layout = facetLayout(titles, grid.frames ?? 1, columns);
  const label = hasLabels
    ? {
      size: options.fontSize ?? Math.max(5, Math.round(size * 0.36)),
      isDark: darkValue(options, domain),
    }
    : null;
  const panelW = grid.width * size;
  const panelH = grid.height * size;
  const gap = 14;
  const top = 22;
  const color = cellColorScale(options, domain);
  const width = layout.perRow * (panelW + gap) + gap;
  const { label: _label, ...mapColor } = color;
  const map = plotFigure(
    {
      width,
      height: layout.rows * (panelH + top + gap) + gap,
      marginLeft: gap / 2,
      marginRight: gap / 2,
      marginTop: top,
      marginBottom: gap / 2,
      ...cellScales(grid),
      fx: {
        axis: null,
        padding: gap / (panelW + gap),
        domain: Array.from({ length: layout.perRow }, (_, i) => i),
      },
      fy: {
        axis: null,
        padding: (top + gap) / (panelH + top + gap),
        domain: Array.from({ length: layout.rows }, (_, i) => i),
      },
      color: mapColor,
      marks: cellMapMarks(cells, layout, label),
    } as Parameters<typeof plotFigure>[0],
  );
  const bar = colorBar(color, Math.min(width, Math.max(260, Math.min(420, width * 0.6))));
  return vstack([bar, map], options.title);
}

/**
 * Fig. 9-style conditional-entropy maps: H(X_j | X_ref) for each reference, the reference
 * outlined in red, one shared colour scale (dark = low = strong dependency).
 * @example
 * const fig = conditionalEntropyMapsFigure(
 *   [0, 300].map((ref) => ({ ref, values: conditionalEntropyRow(dep, ref, "shuffle") })),
 *   grid,
 * );
 */
export function conditionalEntropyMapsFigure(
  maps: readonly { ref: number; values: ArrayLike<number>; title?: string }[],
  grid: GridLike,
  options: CellMapOptions = {},
): Figure {
  return cellMapsFigure(
    maps.map((m) => {
      const { frame, row, col } = cellCoords(grid, m.ref);
      const where = (grid.frames ?? 1) > 1 ? `(${frame}, ${row}, ${col})` : `(${row}, ${col})`;
      return { title: m.title ?? `reference ${where}`, values: m.values, marked: [m.ref] };
    }),
    grid,
    {
      legend: "H(X_j | X_ref), bits",
      title: "Conditional entropy given a reference cell",
      ...options,
    },
  );
}

/**
 * Fig. 10-style entropy increase maps: per cell, other − base (bits) on a diverging scale
 * (red = entropy rises; the range is the 98th percentile of |increase|, beyond it clamped),
 * each cell labelled with its 1-based step number in `schedule` (the
 * other result's schedule when omitted). Several maps share one colour scale.
 */
export function entropyIncreaseFigure(
  maps: readonly { increase: ArrayLike<number>; schedule?: StepsLike; title: string }[],
  grid: GridLike,
  options: CellMapOptions = {},
): Figure {
  const cells = cellCount(grid);
  // Colour range: the 98th percentile of |increase|, so a few extreme cells (e.g. the first
  // parallel step) do not wash out the rest; cells beyond it take the end colours.
  const mags = maps.flatMap((m) => Array.from(m.increase, Math.abs)).filter(Number.isFinite);
  mags.sort((a, b) => a - b);
  const span = mags.length ? mags[Math.min(mags.length - 1, Math.floor(0.98 * mags.length))] : 0;
  return cellMapsFigure(
    maps.map((m) => {
      let labels: string[] | undefined;
      if (m.schedule) {
        labels = new Array<string>(cells).fill("");
        m.schedule.steps.forEach((s, i) => {
          for (const c of s.cells) labels![c] = String(i + 1);
        });
      }
      return { title: m.title, values: m.increase, labels };
    }),
    grid,
    {
      legend: "entropy increase, bits",
      scheme: "rdbu",
      reverse: true,
      pivot: 0,
      domain: [-(span || 1), span || 1],
      title: "Entropy increase per cell (labels: step numbers)",
      ...options,
    },
  );
}

/** Convenience: {@link entropyIncreaseFigure} for one {@link EntropyIncrease}. */
export function entropyIncreaseMapFigure(
  inc: EntropyIncrease,
  schedule?: StepsLike,
  options: CellMapOptions = {},
): Figure {
  return entropyIncreaseFigure(
    [{ increase: inc.increase, schedule, title: `${inc.labels.other} − ${inc.labels.base}` }],
    inc.grid,
    { legend: `${inc.quantity === "nll" ? "NLL" : "entropy"} increase, bits`, ...options },
  );
}

/** Options of {@link offsetMapFigure}. */
export interface OffsetMapOptions {
  /** Title above the map. */
  title?: string;
  /** Largest |dy| and |dx| drawn (default: all). */
  maxOffset?: number;
  /** Colour legend label. */
  legend?: string;
  /** Edge of a cell in pixels (default 12). */
  cellSize?: number;
  /** Colour scale: "linear" (default) or "symlog" (weak far field and strong neighbours both). */
  scale?: "linear" | "symlog";
}

/**
 * Mean mutual information by spatial offset (dy, dx) as a heat map centred on (0, 0) (frame
 * offset 0 only). The optional symmetric-log colour scale keeps both the strong near neighbours
 * and a weak far field visible.
 */
export function offsetMapFigure(
  offsets: readonly OffsetMean[],
  options: OffsetMapOptions = {},
): Figure {
  const max = options.maxOffset ?? Infinity;
  const data = offsets.filter((o) => o.dt === 0 && Math.abs(o.dy) <= max && Math.abs(o.dx) <= max);
  if (data.length === 0) throw new Error("offsetMapFigure: no offsets to draw");
  const reach = Math.max(...data.map((o) => Math.max(Math.abs(o.dy), Math.abs(o.dx))));
  const size = options.cellSize ?? 12;
  const side = (2 * reach + 1) * size;
  const top = Math.max(...data.map((o) => o.mean));
  const symlog = options.scale === "symlog";
  const low = Math.min(0, ...data.map((o) => o.mean));
  const color: ColorScale = symlog
    ? {
      type: "symlog",
      scheme: "viridis",
      domain: [0, top > 0 ? top : 1],
      constant: top / 100 || 1e-3,
      clamp: true,
      label: options.legend ?? "mean I, bits (symlog scale)",
    }
    : {
      type: "linear",
      scheme: "viridis",
      domain: [low, top > low ? top : low + 1],
      label: options.legend ?? "mean I, bits",
    };
  const { label: _label, ...mapColor } = color;
  const map = plotFigure(
    {
      width: side + 70,
      height: side + 72,
      marginLeft: 40,
      marginBottom: 36,
      marginTop: 20,
      marginRight: 30,
      x: { domain: [-reach - 0.5, reach + 0.5], label: "dx" },
      y: { domain: [-reach - 0.5, reach + 0.5], label: "dy", reverse: true },
      color: mapColor,
      marks: [
        Plot.rect(data, {
          x1: (o: OffsetMean) => o.dx - 0.5,
          x2: (o: OffsetMean) => o.dx + 0.5,
          y1: (o: OffsetMean) => o.dy - 0.5,
          y2: (o: OffsetMean) => o.dy + 0.5,
          fill: "mean",
          stroke: "mean",
          strokeWidth: 0.6,
        }),
        // The zero offset is a cell with itself (I = H); drawn blank so it does not set the scale.
        Plot.rect([{ x: 0, y: 0 }], {
          x1: -0.5,
          x2: 0.5,
          y1: -0.5,
          y2: 0.5,
          fill: "white",
          stroke: "red",
        }),
      ],
    } as Parameters<typeof plotFigure>[0],
  );
  const bar = colorBar(color, Math.max(300, side + 70));
  return vstack([bar, map], options.title ?? "Mean mutual information by offset (dy, dx)");
}

/** One curve of {@link distanceCurveFigure}. */
export interface DistanceSeries {
  /** Legend name (e.g. an estimator or a class). */
  name: string;
  /** Points from `meanByDistance`. */
  points: readonly DistanceMean[];
}

/** Options of {@link distanceCurveFigure}. */
export interface DistanceCurveOptions {
  /** Title above the chart. */
  title?: string;
  /** y-axis label (default "mean mutual information, bits"). */
  yLabel?: string;
  /** x-axis label (default "distance (cells)"). */
  xLabel?: string;
  /** Figure width (default 640) and height (default 380). */
  width?: number;
  /** Figure height. */
  height?: number;
  /** Logarithmic y axis (non-positive values dropped). */
  logY?: boolean;
}

/** Mutual information against distance: one line per series, named at its right end. */
export function distanceCurveFigure(
  series: readonly DistanceSeries[],
  options: DistanceCurveOptions = {},
): Figure {
  const rows = series.flatMap((s) =>
    s.points.filter((p) => !options.logY || p.mean > 0).map((p) => ({ series: s.name, ...p }))
  );
  // A legend drawn as text marks in the top-right corner (Plot's swatch legend is HTML).
  const legend = series.map((s, i) => ({ series: s.name, i }));
  return plotFigure(
    {
      title: options.title ?? "Mutual information against distance",
      width: options.width ?? 640,
      height: options.height ?? 380,
      marginRight: 20,
      marginLeft: 56,
      x: { label: options.xLabel ?? "distance (cells)", grid: true },
      y: {
        label: options.yLabel ?? "mean mutual information, bits",
        grid: true,
        type: options.logY ? "log" : "linear",
      },
      color: { type: "categorical", scheme: "tableau10", domain: series.map((s) => s.name) },
      marks: [
        ...(options.logY ? [] : [Plot.ruleY([0], { stroke: "#888" })]),
        Plot.line(rows, { x: "distance", y: "mean", stroke: "series", strokeWidth: 1.5 }),
        Plot.dot(rows, { x: "distance", y: "mean", fill: "series", r: 1.5 }),
        ...legend.map((d) =>
          Plot.text([d], {
            frameAnchor: "top-right",
            dx: -8,
            dy: 8 + 15 * d.i,
            text: () => `\u2014 ${d.series}`,
            fill: "series",
            textAnchor: "end",
            fontSize: 12,
          })
        ),
      ],
    } as Parameters<typeof plotFigure>[0],
  );
}

/** Options of {@link scheduleCostFigure}. */
export interface ScheduleCostFigureOptions {
  /** Title above the chart. */
  title?: string;
  /** Figure width (default 720). */
  width?: number;
}

/** Horizontal bars of each schedule's total within-step mutual information (bits). */
export function scheduleCostFigure(
  costs: readonly ScheduleCost[],
  options: ScheduleCostFigureOptions = {},
): Figure {
  const rows = costs.map((c) => ({
    name: `${c.name} (${c.steps} steps)`,
    total: c.total,
    text: `${c.total >= 100 ? c.total.toFixed(0) : c.total.toFixed(2)}` +
      (c.pairs > 0 ? ` (${(c.total / c.pairs).toFixed(2)} per pair)` : ""),
  }));
  return plotFigure(
    {
      title: options.title ??
        "Within-step pairwise mutual information (what parallel sampling ignores)",
      width: options.width ?? 720,
      height: 60 + 32 * rows.length,
      marginLeft: 200,
      marginRight: 150,
      x: { label: "Σ I(X_a; X_b) over same-step pairs, bits", grid: true },
      y: { label: null, domain: rows.map((r) => r.name) },
      marks: [
        Plot.barX(rows, { x: "total", y: "name", fill: "steelblue" }),
        Plot.text(rows, { x: "total", y: "name", text: "text", textAnchor: "start", dx: 4 }),
        Plot.ruleX([0]),
      ],
    } as Parameters<typeof plotFigure>[0],
  );
}
