/**
 * Ordering visualizers: a schedule drawn on its grid (each cell labelled with its step number,
 * coloured by step or by region, region borders drawn; one panel per frame for video), like the
 * paper's Fig. 3 and Fig. 10(a,b,d,e); and tokens-per-step curves to compare schedules.
 * @module
 */
import { Plot } from "../deps/plot.ts";
import { cellCoords } from "../media/grid.ts";
import { describeGrid, type Schedule, stepOfCell } from "../schedule/schedule.ts";
import { cellRect, cellScales, cellText } from "./_cells.ts";
import type { Figure } from "./compose.ts";
import { plotFigure } from "./render.ts";

/** Options of {@link scheduleFigure}. */
export interface ScheduleFigureOptions {
  /** Colour cells by step (sequential ramp) or by region (categorical; needs regions). */
  colorBy?: "step" | "region";
  /** Edge of one cell in pixels (default 22: three-digit labels stay legible on 24x24). */
  cellSize?: number;
  /** Label every cell with its 1-based step number (default true). */
  labels?: boolean;
  /** Title drawn above the grid (default: name, grid and step count). */
  title?: string;
}

interface CellDatum {
  frame: number;
  row: number;
  col: number;
  step: number;
  region: number;
  dark: boolean;
}

/** Region index of a cell for an M x M region partition (raster over regions). */
function regionOf(schedule: Schedule, row: number, col: number): number {
  const r = schedule.regions;
  if (!r) return 0;
  const rh = schedule.grid.height / r.rows;
  const rw = schedule.grid.width / r.cols;
  return Math.floor(row / rh) * r.cols + Math.floor(col / rw);
}

/**
 * Draw a schedule on its grid: one labelled square per cell (step numbers start at 1).
 * @example
 * const fig = scheduleFigure(par(makeGrid(24, 24), { m: 2 }));
 * await saveFigure(fig, "out/par4");
 */
export function scheduleFigure(schedule: Schedule, options: ScheduleFigureOptions = {}): Figure {
  const { grid } = schedule;
  const size = options.cellSize ?? 22;
  const colorBy = options.colorBy === "region" && schedule.regions ? "region" : "step";
  const stepOf = stepOfCell(schedule);
  const last = Math.max(1, schedule.steps.length - 1);
  const data: CellDatum[] = Array.from(stepOf, (step, cell) => {
    const { frame, row, col } = cellCoords(grid, cell);
    // viridis is dark at the start: white labels there, black ones on the light end.
    return {
      frame,
      row,
      col,
      step: step + 1,
      region: regionOf(schedule, row, col),
      dark: step / last < 0.55,
    };
  });
  const facet = grid.frames > 1 ? { fx: "frame" } : {};
  const marks: Plot.Markish[] = [
    cellRect(data, {
      fill: colorBy === "step" ? "step" : "region",
      stroke: "white",
      strokeWidth: 0.5,
      ...facet,
    }),
  ];
  if (options.labels ?? true) {
    const fontSize = Math.max(5, Math.round(size * (schedule.steps.length >= 100 ? 0.36 : 0.45)));
    marks.push(cellText(data, {
      text: (d: CellDatum) => String(d.step),
      fill: (d: CellDatum) => (colorBy === "step" && d.dark ? "white" : "black"),
      fontSize,
      ...facet,
    }));
  }
  if (schedule.regions) {
    const { rows, cols } = schedule.regions;
    const rh = grid.height / rows;
    const rw = grid.width / cols;
    const boxes = [];
    for (let f = 0; f < grid.frames; f++) {
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          boxes.push({ frame: f, x1: c * rw, x2: (c + 1) * rw, y1: r * rh, y2: (r + 1) * rh });
        }
      }
    }
    marks.push(Plot.rect(boxes, {
      x1: "x1",
      x2: "x2",
      y1: "y1",
      y2: "y2",
      fill: "none",
      stroke: "black",
      strokeWidth: 2,
      ...facet,
    }));
  }
  const panelW = grid.width * size;
  const margin = 4;
  return plotFigure({
    title: options.title ??
      `${schedule.name}: ${describeGrid(grid)}, ${schedule.steps.length} steps`,
    width: grid.frames * (panelW + 2 * margin) + 2 * margin,
    height: grid.height * size + 2 * margin + (grid.frames > 1 ? 20 : 0),
    margin,
    marginTop: grid.frames > 1 ? 24 : margin,
    ...cellScales(grid),
    fx: grid.frames > 1
      ? { axis: "top", label: null, tickFormat: (f: number) => `frame ${f + 1}`, padding: 0.04 }
      : undefined,
    color: colorBy === "step"
      ? { type: "linear", scheme: "viridis", domain: [1, schedule.steps.length] }
      : { type: "categorical", scheme: "pastel1" },
    marks,
  });
}

/** Options of {@link stepsOverTimeFigure}. */
export interface StepsOverTimeOptions {
  /** Figure width in pixels (default 640). */
  width?: number;
  /** Figure height in pixels (default 360). */
  height?: number;
  /** Title above the chart. */
  title?: string;
}

/**
 * Compare schedules over time: cumulative tokens sampled against step number, one line per
 * schedule, labelled at its end with the name and step count.
 */
export function stepsOverTimeFigure(
  schedules: readonly Schedule[],
  options: StepsOverTimeOptions = {},
): Figure {
  const rows: { schedule: string; step: number; tokens: number }[] = [];
  const ends: { schedule: string; step: number; tokens: number; label: string }[] = [];
  for (const s of schedules) {
    let total = 0;
    rows.push({ schedule: s.name, step: 0, tokens: 0 });
    s.steps.forEach((step, i) => {
      total += step.cells.length;
      rows.push({ schedule: s.name, step: i + 1, tokens: total });
    });
    // Schedules with the same step sizes end on the same point: one label names them all.
    const same = ends.find((e) => e.step === s.steps.length && e.tokens === total);
    if (same) same.label = same.label.replace(" (", `, ${s.name} (`);
    else {
      ends.push({
        schedule: s.name,
        step: s.steps.length,
        tokens: total,
        label: `${s.name} (${s.steps.length})`,
      });
    }
  }
  return plotFigure({
    title: options.title ?? "Tokens sampled against steps",
    width: options.width ?? 640,
    height: options.height ?? 360,
    marginRight: 110,
    x: { label: "step", grid: true },
    y: { label: "tokens sampled", grid: true },
    color: { type: "categorical", scheme: "tableau10", domain: schedules.map((s) => s.name) },
    marks: [
      Plot.line(rows, { x: "step", y: "tokens", stroke: "schedule", strokeWidth: 2 }),
      Plot.dot(ends, { x: "step", y: "tokens", fill: "schedule", r: 3 }),
      Plot.text(ends, {
        x: "step",
        y: "tokens",
        text: "label",
        fill: "schedule",
        textAnchor: "start",
        dx: 6,
      }),
    ],
  });
}
