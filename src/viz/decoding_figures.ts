/**
 * Figures of the training-free decoders' traces: tokens committed per model call against the
 * iteration (Speculative Jacobi Decoding's accepted-tokens-per-iteration curve). ZipAR's
 * wavefront is `scheduleFigure(zipar(grid, { window }))`, SJD's acceptance map `cellMapsFigure`.
 * @module
 */
import { Plot } from "../deps/plot.ts";
import type { Figure } from "./compose.ts";
import { plotFigure } from "./render.ts";

/** One curve of {@link tokensPerIterationFigure}. */
export interface IterationSeries {
  /** Legend name. */
  name: string;
  /** Tokens per call at each iteration (0-based model call index). */
  points: readonly { iteration: number; tokens: number }[];
  /** Draw dashed (e.g. a per-image counterpart of a batch curve). */
  dashed?: boolean;
  /** Colour group: series with the same group share a colour (default: the name). */
  group?: string;
}

/** Options of {@link tokensPerIterationFigure}. */
export interface IterationFigureOptions {
  /** Title above the chart. */
  title?: string;
  /** y-axis label (default "tokens per model call"). */
  yLabel?: string;
  /** Figure width (default 640). */
  width?: number;
  /** Figure height (default 360). */
  height?: number;
}

/**
 * Tokens gained per model call against the call's index, one line per series, with a grey rule
 * at 1 (one token a call: raster decoding) and the legend as text in the top-right corner.
 * @example
 * const fig = tokensPerIterationFigure([
 *   { name: "SJD, 15 drafts", points: result.jacobi.iterations.map((it, i) => ({ iteration: i, tokens: it.committed })) },
 * ]);
 */
export function tokensPerIterationFigure(
  series: readonly IterationSeries[],
  options: IterationFigureOptions = {},
): Figure {
  const groups = [...new Set(series.map((s) => s.group ?? s.name))];
  // Headroom above the curves for the legend lines.
  const top = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.tokens)));
  return plotFigure(
    {
      title: options.title ?? "Tokens per model call against the iteration",
      width: options.width ?? 640,
      height: options.height ?? 360,
      marginLeft: 48,
      marginRight: 20,
      x: { label: "iteration (model call) →", grid: true },
      y: {
        label: options.yLabel ?? "↑ tokens per model call",
        grid: true,
        domain: [0, top * (1.15 + 0.08 * series.length)],
      },
      color: { type: "categorical", scheme: "tableau10", domain: groups },
      marks: [
        Plot.ruleY([1], { stroke: "#888", strokeDasharray: "2,2" }),
        ...series.map((s) =>
          Plot.line(s.points.map((p) => ({ ...p, group: s.group ?? s.name })), {
            x: "iteration",
            y: "tokens",
            stroke: "group",
            strokeWidth: 1.5,
            strokeDasharray: s.dashed ? "5,3" : undefined,
          })
        ),
        ...series.map((s, i) =>
          Plot.text([{ group: s.group ?? s.name }], {
            frameAnchor: "top-right",
            dx: -8,
            dy: 8 + 15 * i,
            text: () => `${s.dashed ? "- -" : "\u2014"} ${s.name}`,
            fill: "group",
            textAnchor: "end",
            fontSize: 12,
          })
        ),
      ],
    } as Parameters<typeof plotFigure>[0],
  );
}
