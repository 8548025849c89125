/**
 * Tables and figures of the speed/quality experiments: the paper's Table 2 shape (one row per
 * configuration plus the real-data floor), its Table 4 ablations side by side with the paper's
 * FID, a speed/quality plot, and a labelled overview of samples; for the training-free decoders
 * on the raster model (ZipAR, SJD), a "where each wins" summary generated from the measured
 * numbers, ZipAR's wavefront, SJD's acceptance maps and its tokens-per-iteration curve. Used by
 * `deno task analyze` and `notebooks/03_speed_quality.ipynb`.
 * @module
 */
import {
  cellMapsFigure,
  type Figure,
  hstack,
  type IterationSeries,
  labelColumn,
  labelledRowsFigure,
  loadEmojiDataset,
  loadPatchTokenizer,
  loadTokenFile,
  makeGrid,
  type PictureRow,
  Plot,
  plotFigure,
  saveFigure,
  scheduleFigure,
  tokensPerIterationFigure,
  tokensToMosaic,
  zipar,
} from "./deps.ts";
import type { ExperimentRow, ExperimentsSummary } from "./experiments.ts";

/** One ablation of the paper's Table 4: settings, the row each maps to, and the paper's FID. */
export interface AblationSpec {
  /** What is varied. */
  ablation: string;
  /** Paper model the FIDs come from. */
  paperModel: string;
  /**
   * Settings in the paper's order; `showSteps` appends the row's step count to the label (it
   * depends on the grid: 576 / 147 / 51 on 24x24, 256 / 67 / 31 on 16x16).
   */
  settings: { setting: string; id: string; paperFid: number; showSteps?: boolean }[];
}

/** The paper's Table 4 ablations mapped onto the experiment configurations. */
export const ABLATIONS: readonly AblationSpec[] = [
  {
    ablation: "initial sequential tokens",
    paperModel: "PAR-XL-4x",
    settings: [
      { setting: "without (par4-noinit)", id: "par4-noinit", paperFid: 3.67 },
      { setting: "with (par4)", id: "par4", paperFid: 2.61 },
    ],
  },
  {
    ablation: "attention inside a parallel group",
    paperModel: "PAR-XL-4x",
    settings: [
      { setting: "causal (par4-causal)", id: "par4-causal", paperFid: 3.64 },
      { setting: "full (par4)", id: "par4", paperFid: 2.61 },
    ],
  },
  {
    ablation: "order x pattern",
    paperModel: "PAR-XL-4x",
    settings: [
      { setting: "raster / one (raster)", id: "raster", paperFid: 2.62 },
      { setting: "raster / multi (raster4)", id: "raster4", paperFid: 5.64 },
      { setting: "distant / multi (par4)", id: "par4", paperFid: 2.61 },
    ],
  },
  {
    ablation: "parallel tokens n",
    paperModel: "PAR-XXL",
    settings: [
      { setting: "1 (raster)", id: "raster", paperFid: 2.34, showSteps: true },
      { setting: "4 (par4)", id: "par4", paperFid: 2.35, showSteps: true },
      { setting: "16 (par16)", id: "par16", paperFid: 3.02, showSteps: true },
    ],
  },
];

const f = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(digits);

/** Model calls per image as `batch 1 / batch B` (one number when only one is known). */
function callsCell(r: ExperimentRow): string {
  const c = r.modelCalls;
  const sampling = c?.sampling ?? r.steps;
  const fmtCalls = (x: number) => Number.isInteger(x) ? String(x) : x.toFixed(1);
  if (sampling === null || sampling === undefined) return "-";
  return c?.batch1 !== null && c?.batch1 !== undefined
    ? `${fmtCalls(c.batch1)} / ${fmtCalls(sampling)}`
    : fmtCalls(sampling);
}

/** The Table 2-shaped Markdown table: speed and quality per configuration, floor last. */
export function speedQualityTable(summary: ExperimentsSummary): string {
  const b = summary.settings.batchSize;
  const head = [
    "| configuration | model | steps | model calls / image (batch 1 / " + b +
    ") | s/image (batch 1) | speed-up | s/image (batch " + b +
    ") | speed-up | Fréchet | KID x 1e3 | class acc. | pair JS h / v (bits) | white cells | val NLL (nats) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  const rows = summary.rows.map((r) => {
    const q = r.quality;
    return `| ${r.spec.label} | ${r.model.name} | ${r.steps ?? "-"} | ${callsCell(r)} | ${
      f(r.latencySeconds, 3)
    } | ${r.speedupLatency ? f(r.speedupLatency) + "x" : "-"} | ${f(r.secondsPerImage, 3)} | ${
      r.speedupThroughput ? f(r.speedupThroughput) + "x" : "-"
    } | ${f(q.frechet)} ± ${f(q.frechetStd)} | ${f(q.kid.mean * 1e3, 1)} ± ${
      f(q.kid.std * 1e3, 1)
    } | ${f(q.classAccuracy)} | ${f(q.pairJS.horizontal, 3)} / ${f(q.pairJS.vertical, 3)} | ${
      f(r.whiteFraction)
    } | ${f(r.valNll.nats, 3)} |`;
  });
  const q = summary.floor.quality;
  rows.push(
    `| real val (floor, n = ${q.n}) | - | - | - | - | - | - | - | ${f(q.frechet)} ± ${
      f(q.frechetStd)
    } | ${f(q.kid.mean * 1e3, 1)} ± ${f(q.kid.std * 1e3, 1)} | ${f(q.classAccuracy)} | ${
      f(q.pairJS.horizontal, 3)
    } / ${f(q.pairJS.vertical, 3)} | ${f(summary.floorWhiteFraction)} | - |`,
  );
  return [...head, ...rows].join("\n");
}

/** Rows of the ablation table (only settings whose configuration ran). */
export function ablationRows(summary: ExperimentsSummary): {
  ablation: string;
  paperModel: string;
  setting: string;
  id: string;
  paperFid: number;
  showSteps?: boolean;
  row: ExperimentRow;
}[] {
  const byId = new Map(summary.rows.map((r) => [r.spec.id, r]));
  return ABLATIONS.flatMap((a) =>
    a.settings.filter((s) => byId.has(s.id)).map((s) => ({
      ablation: a.ablation,
      paperModel: a.paperModel,
      ...s,
      row: byId.get(s.id)!,
    }))
  );
}

/** The Table 4-shaped Markdown table: ours (Fréchet, pair JS, NLL) next to the paper's FID. */
export function ablationTable(summary: ExperimentsSummary): string {
  const lines = [
    "| ablation | setting | paper FID | Fréchet (ours) | KID x 1e3 | pair JS h / v | class acc. | val NLL |",
    "|---|---|---|---|---|---|---|---|",
  ];
  let last = "";
  for (const a of ablationRows(summary)) {
    const q = a.row.quality;
    lines.push(
      `| ${a.ablation === last ? "" : `${a.ablation} (${a.paperModel})`} | ${
        a.showSteps ? a.setting.replace(/\)$/, `, ${a.row.steps} steps)`) : a.setting
      } | ${a.paperFid.toFixed(2)} | ${f(q.frechet)} ± ${f(q.frechetStd)} | ${
        f(q.kid.mean * 1e3, 1)
      } | ${f(q.pairJS.horizontal, 3)} / ${f(q.pairJS.vertical, 3)} | ${f(q.classAccuracy)} | ${
        f(a.row.valNll.nats, 3)
      } |`,
    );
    last = a.ablation;
  }
  return lines.join("\n");
}

/** How a row is drawn: a schedule on its own model, an ablation, a cross pairing, a decoder. */
function rowKind(r: ExperimentRow): "main" | "ablation" | "cross pairing" | "training-free" {
  if (r.spec.decoder) return "training-free";
  if (r.spec.cross) return "cross pairing";
  return r.spec.id.startsWith("par4-") ? "ablation" : "main";
}

/**
 * Speed against quality, one point per configuration: batch-1 seconds per image (log x; the
 * throughput when latency was skipped) against Fréchet distance and horizontal pair JS; dashed
 * line: the real-data floor; training-free decoders in orange.
 */
export function speedQualityFigure(summary: ExperimentsSummary, width = 380): Figure {
  const latency = summary.rows.every((r) => r.latencySeconds !== null);
  // Rows without a time (not timed yet) have no place on the speed axis.
  const points = summary.rows.flatMap((r) => {
    const x = latency ? r.latencySeconds : r.secondsPerImage;
    return x === null ? [] : [{
      label: r.spec.short ?? r.spec.label,
      x,
      frechet: r.quality.frechet,
      js: r.quality.pairJS.horizontal,
      kind: rowKind(r),
    }];
  });
  const xLabel = latency
    ? "seconds per image, batch 1 (log) →"
    : `seconds per image, batch ${summary.settings.batchSize} (log) →`;
  const height = 300;
  const margin = { left: 50, right: 20, top: 20, bottom: 35 };
  const xs = points.map((p) => p.x);
  // Fixed domains, so the label placement below can work in pixels.
  const xDomain = xs.length > 0 ? [Math.min(...xs) / 1.35, Math.max(...xs) * 1.35] : [0.01, 1];
  const panel = (y: "frechet" | "js", yLabel: string, floor: number, title: string) => {
    const ys = [...points.map((p) => p[y]), floor];
    const pad = (Math.max(...ys) - Math.min(...ys)) * 0.08 || 0.1;
    const yDomain = [Math.min(...ys) - pad, Math.max(...ys) + pad];
    const labels = placeLabels(points.map((p) => ({ ...p, y: p[y] })), {
      width,
      height,
      margin,
      xDomain,
      yDomain,
    });
    return plotFigure({
      title,
      width,
      height,
      marginLeft: margin.left,
      marginRight: margin.right,
      marginTop: margin.top,
      marginBottom: margin.bottom,
      x: { type: "log", label: xLabel, domain: xDomain, tickFormat: "~g" },
      y: { label: yLabel, grid: true, domain: yDomain },
      color: {
        domain: ["main", "ablation", "cross pairing", "training-free"],
        range: ["#1f77b4", "#d62728", "#7f7f7f", "#ff7f0e"],
      },
      marks: [
        Plot.ruleY([floor], { stroke: "#2ca02c", strokeDasharray: "4,3" }),
        Plot.text([{ y: floor }], {
          y: "y",
          frameAnchor: "left",
          dx: 4,
          dy: -6,
          text: () => "real val (floor)",
          fill: "#2ca02c",
          fontSize: 10,
        }),
        // A faint leader from a label that had to move away from its point.
        Plot.link(labels.filter((l) => l.moved), {
          x1: "px",
          y1: "py",
          x2: "x",
          y2: "y",
          stroke: "kind",
          strokeOpacity: 0.35,
        }),
        Plot.dot(points, { x: "x", y, fill: "kind", r: 4 }),
        Plot.text(labels, { x: "x", y: "y", text: "label", fontSize: 10, fill: "kind" }),
      ],
    });
  };
  return hstack([
    panel("frechet", "↑ Fréchet distance", summary.floor.quality.frechet, "Speed vs Fréchet"),
    panel(
      "js",
      "↑ pair JS, horizontal (bits)",
      summary.floor.quality.pairJS.horizontal,
      "Speed vs neighbour-pair JS",
    ),
  ], { background: "white" });
}

/**
 * Label positions (data coordinates) that do not overlap each other or the points: greedy, in
 * the order of the points, each label taking the first free spot of a ring of candidates around
 * its point (above, below, right, left, then further out). Pixel sizes assume 10 px DejaVu Sans.
 */
function placeLabels<T extends { label: string; x: number; y: number }>(
  points: T[],
  frame: {
    width: number;
    height: number;
    margin: { left: number; right: number; top: number; bottom: number };
    xDomain: number[];
    yDomain: number[];
  },
): (T & { px: number; py: number; moved: boolean })[] {
  const { width, height, margin, xDomain, yDomain } = frame;
  const [lx0, lx1] = [Math.log(xDomain[0]), Math.log(xDomain[1])];
  const toPx = (x: number) =>
    margin.left + (Math.log(x) - lx0) / (lx1 - lx0) * (width - margin.left - margin.right);
  const toPy = (y: number) =>
    height - margin.bottom -
    (y - yDomain[0]) / (yDomain[1] - yDomain[0]) * (height - margin.top - margin.bottom);
  const fromPx = (px: number) =>
    Math.exp(lx0 + (px - margin.left) / (width - margin.left - margin.right) * (lx1 - lx0));
  const fromPy = (py: number) =>
    yDomain[0] +
    (height - margin.bottom - py) / (height - margin.top - margin.bottom) *
      (yDomain[1] - yDomain[0]);
  type Box = { x0: number; x1: number; y0: number; y1: number };
  const hit = (a: Box, b: Box) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
  const taken: Box[] = points.map((p) => {
    const [cx, cy] = [toPx(p.x), toPy(p.y)];
    return { x0: cx - 4, x1: cx + 4, y0: cy - 4, y1: cy + 4 };
  });
  const out: (T & { px: number; py: number; moved: boolean })[] = [];
  for (const p of points) {
    const [cx, cy] = [toPx(p.x), toPy(p.y)];
    const w = p.label.length * 6 + 2;
    const h = 11;
    const ring = (r: number) => [
      [0, -r],
      [0, r + 3],
      [w / 2 + r - 2, 3],
      [-(w / 2 + r - 2), 3],
      [w / 2 + r - 2, -r],
      [-(w / 2 + r - 2), -r],
      [w / 2 + r - 2, r + 3],
      [-(w / 2 + r - 2), r + 3],
    ];
    const candidates = [10, 20, 30, 42].flatMap(ring);
    let best = candidates[0];
    for (const c of candidates) {
      const box = {
        x0: cx + c[0] - w / 2,
        x1: cx + c[0] + w / 2,
        y0: cy + c[1] - h / 2,
        y1: cy + c[1] + h / 2,
      };
      const inside = box.x0 >= 0 && box.x1 <= width && box.y0 >= margin.top - 8 &&
        box.y1 <= height - margin.bottom;
      if (inside && !taken.some((t) => hit(t, box))) {
        best = c;
        break;
      }
    }
    const [bx, by] = [cx + best[0], cy + best[1]];
    taken.push({ x0: bx - w / 2, x1: bx + w / 2, y0: by - h / 2, y1: by + h / 2 });
    out.push({
      ...p,
      px: p.x,
      py: p.y,
      x: fromPx(bx),
      y: fromPy(by),
      moved: Math.hypot(best[0], best[1]) > 20,
    });
  }
  return out;
}

/** A line on the machine's load while timing (other jobs slow every time on a shared machine). */
function loadNote(summary: ExperimentsSummary): string[] {
  const loads = summary.rows.flatMap((r) => r.timing ? [r.timing.loadAverage] : []);
  if (loads.length === 0) return [];
  return [
    `Timing: the machine's 1-minute load average just before each configuration was timed ranged ${
      Math.min(...loads).toFixed(2)
    }-${
      Math.max(...loads).toFixed(2)
    } on ${navigator.hardwareConcurrency} cores (the timing itself keeps up to about 2 busy; more means other jobs shared the CPU and inflated the times).`,
    "",
  ];
}

/** The rows decoded by a training-free decoder, in run order. */
function decoderRows(summary: ExperimentsSummary): ExperimentRow[] {
  return summary.rows.filter((r) => r.spec.decoder);
}

/** Calls per image at batch 1 where measured, else in the sampling batches. */
function callsPerImage(r: ExperimentRow): number | null {
  return r.modelCalls?.batch1 ?? r.modelCalls?.sampling ?? r.steps;
}

const short = (r: ExperimentRow) => r.spec.short ?? r.spec.label;

/** The row with the smallest value of `key` (rows where it is known), or undefined. */
function best(
  rows: readonly ExperimentRow[],
  key: (r: ExperimentRow) => number | null | undefined,
): ExperimentRow | undefined {
  const known = rows.filter((r) => {
    const v = key(r);
    return v !== null && v !== undefined && Number.isFinite(v);
  });
  return known.sort((a, b) => key(a)! - key(b)!)[0];
}

/**
 * "Where each wins": sentences generated from the measured rows, comparing the training-free
 * decoders with raster and with the schedules on their own models (no ablations, no cross
 * pairings). Every comparison's direction comes from the numbers; empty without decoder rows.
 */
export function decoderFindings(summary: ExperimentsSummary): string[] {
  const dec = decoderRows(summary);
  if (dec.length === 0) return [];
  const rows = summary.rows.filter((r) => rowKind(r) === "main" || r.spec.decoder);
  const raster = summary.rows.find((r) => r.spec.id === "raster");
  const trained = rows.filter((r) => !r.spec.decoder && r.spec.id !== "raster");
  const calls = (r: ExperimentRow) => {
    const c = callsPerImage(r);
    return c === null ? "-" : Number.isInteger(c) ? String(c) : c.toFixed(0);
  };
  const x = (v: number | null) => v === null ? "-" : `${v.toFixed(2)}x`;
  const out: string[] = [];
  // 1. Model calls.
  const fewest = best(rows, callsPerImage);
  const fewestDec = best(dec, callsPerImage);
  if (fewest && fewestDec) {
    out.push(
      `- **Model calls** (batch 1 where timed): fewest overall ${short(fewest)} (${
        calls(fewest)
      }); of the training-free decoders ${short(fewestDec)} (${calls(fewestDec)}). ` +
        `Decoders: ${dec.map((r) => `${short(r)} ${calls(r)}`).join(", ")}` +
        (raster ? `; raster ${calls(raster)}` : "") +
        (trained.length
          ? `; on models trained for their order: ${
            trained.map((r) => `${short(r)} ${calls(r)}`).join(", ")
          }.`
          : "."),
    );
  }
  // 2. Speed at batch 1 and at batch B.
  for (
    const [what, key, speedup] of [
      ["batch 1", (r: ExperimentRow) => r.latencySeconds, (r: ExperimentRow) => r.speedupLatency],
      [
        `batch ${summary.settings.batchSize}`,
        (r: ExperimentRow) => r.secondsPerImage,
        (r: ExperimentRow) => r.speedupThroughput,
      ],
    ] as const
  ) {
    const fastest = best(rows, key);
    if (!fastest || !raster) continue;
    const faster = dec.filter((r) => (speedup(r) ?? 0) > 1);
    const slower = dec.filter((r) => speedup(r) !== null && speedup(r)! <= 1);
    out.push(
      `- **Seconds per image, ${what}**: fastest ${short(fastest)} (${
        x(speedup(fastest))
      } raster). Training-free: ${dec.map((r) => `${short(r)} ${x(speedup(r))}`).join(", ")}` +
        (faster.length ? `; faster than raster: ${faster.map(short).join(", ")}` : "") +
        (slower.length ? `; not faster than raster: ${slower.map(short).join(", ")}` : "") +
        ".",
    );
  }
  // 3. Quality against raster, in units of the bootstrap spread.
  if (raster) {
    const q0 = raster.quality;
    const groups = { within: [] as string[], higher: [] as string[], lower: [] as string[] };
    for (const r of dec) {
      const d = r.quality.frechet - q0.frechet;
      const noise = Math.hypot(r.quality.frechetStd, q0.frechetStd);
      const label = `${short(r)} ${f(r.quality.frechet)}`;
      if (noise > 0 && Math.abs(d) <= 2 * noise) groups.within.push(label);
      else (d > 0 ? groups.higher : groups.lower).push(label);
    }
    const lowestJs = best(rows, (r) => r.quality.pairJS.horizontal);
    const lowestF = best(rows, (r) => r.quality.frechet);
    out.push(
      `- **Quality**: raster's Fréchet is ${f(q0.frechet)} ± ${f(q0.frechetStd)}. ` +
        [
          groups.within.length
            ? `Within twice the combined bootstrap spread of it: ${groups.within.join(", ")}.`
            : "",
          groups.higher.length ? `Higher (worse): ${groups.higher.join(", ")}.` : "",
          groups.lower.length ? `Lower (better): ${groups.lower.join(", ")}.` : "",
        ].filter((t) => t).join(" ") +
        (lowestF ? ` Lowest Fréchet of these rows: ${short(lowestF)}` : "") +
        (lowestJs
          ? `; lowest horizontal pair JS: ${short(lowestJs)} (${
            f(lowestJs.quality.pairJS.horizontal, 3)
          }, raster ${f(q0.pairJS.horizontal, 3)}).`
          : "."),
    );
  }
  // 4. SJD: what its acceptance gives, at batch 1 and in a batch.
  for (const r of dec.filter((r) => r.spec.decoder!.kind === "sjd")) {
    const t = r.decoderTrace;
    const b1 = r.modelCalls?.batch1;
    const cells = t?.acceptedDraftMap?.length;
    const accepted = t?.acceptedDraftMap
      ? t.acceptedDraftMap.reduce((a, v) => a + v, 0) / t.acceptedDraftMap.length
      : null;
    out.push(
      `- **${r.spec.label}**: ${
        b1 && cells ? `${(cells / b1).toFixed(2)} cells per call at batch 1, ` : ""
      }${f(t?.cellsPerCall)} in batches of ${summary.settings.batchSize} (a batch keeps the ` +
        `shortest accepted prefix); ${
          accepted === null ? "-" : (100 * accepted).toFixed(0)
        }% of the kept tokens were drafts the image had accepted. Its tokens follow raster ` +
        "sampling's distribution by construction (tests/jacobi_test.ts), so its gap to raster " +
        `(Fréchet ${f(r.quality.frechet)} vs ${raster ? f(raster.quality.frechet) : "-"}) ` +
        `measures this run's sampling noise; its batch-1 speed-up is ${x(r.speedupLatency)}.`,
    );
  }
  // 5. ZipAR against the trained schedule closest in calls.
  for (const r of dec.filter((r) => r.spec.decoder!.kind === "zipar")) {
    const c = callsPerImage(r);
    const near = c === null ? undefined : best(trained, (t) => {
      const tc = callsPerImage(t);
      return tc === null ? null : Math.abs(Math.log(tc / c));
    });
    if (!near || c === null) continue;
    const faster = (r.latencySeconds ?? Infinity) < (near.latencySeconds ?? Infinity) ? r : near;
    const better = r.quality.frechet < near.quality.frechet ? r : near;
    const d = r.spec.decoder!;
    const adaptive = d.kind === "zipar" && d.adaptive && r.decoderTrace?.meanRowWindow;
    out.push(
      `- **${r.spec.label}** (${calls(r)} calls${
        adaptive
          ? `; rows started after ${
            f(r.decoderTrace!.meanRowWindow, 1)
          } tokens of the row above on average`
          : ""
      }) against ${near.spec.label} (${calls(near)} calls, its own model): ` +
        `${short(faster)} is faster at batch 1 (${x(r.speedupLatency)} vs ${
          x(near.speedupLatency)
        } raster), ${short(better)} has the lower Fréchet (${f(r.quality.frechet)} vs ${
          f(near.quality.frechet)
        }).`,
    );
  }
  return out;
}

/** The training-free section of the report: the findings, then the three figures. */
function decoderMarkdown(summary: ExperimentsSummary, dir: string): string[] {
  const dec = decoderRows(summary);
  if (dec.length === 0) return [];
  const lines = [
    "## Training-free decoders on the raster model (ZipAR, SJD)",
    "",
    `The rows ${
      dec.map((r) => r.spec.short ?? r.spec.label).join(", ")
    } decode the unchanged raster model (${
      [...new Set(dec.map((r) => r.model.name))].join(", ")
    }): ZipAR's next-set prediction (rows start once the row above holds \`window\` tokens) ` +
    "and Speculative Jacobi Decoding (drafts verified with min(1, p/q)); see " +
    "src/sampler/README.md. Their val NLL is that model's teacher-forced NLL under raster order: " +
    "the model is unchanged, so it is the raster row's number. Model calls are counted from the " +
    "sampler traces: batch 1 over the timing's single pictures, batch " +
    `${summary.settings.batchSize} over the sampling run (a batch shares its calls). Steps: "-" ` +
    "where the count depends on the run (SJD, the adaptive window).",
    "",
    "**Where each wins** (generated from the numbers above):",
    "",
    ...decoderFindings(summary),
    "",
  ];
  const figures: [string, string][] = [
    ["zipar_wavefront", "ZipAR's wavefront: the step each cell is sampled in"],
    ["sjd_acceptance", "SJD: acceptance against position in the grid"],
    ["sjd_iterations", "SJD: tokens per model call against the iteration"],
  ];
  const present = new Set(decoderFigureNames(summary));
  for (const [name, alt] of figures) {
    if (present.has(`${name}.png`)) lines.push(`![${alt}](${dir}/${name}.png)`, "");
  }
  return lines;
}

/** The decoder figures `writeExperimentFigures` writes for this summary. */
function decoderFigureNames(summary: ExperimentsSummary): string[] {
  const dec = decoderRows(summary);
  const names: string[] = [];
  if (dec.some((r) => r.spec.decoder!.kind === "zipar")) names.push("zipar_wavefront.png");
  if (dec.some((r) => r.spec.decoder!.kind === "sjd" && r.decoderTrace?.acceptedDraftMap)) {
    names.push("sjd_acceptance.png", "sjd_iterations.png");
  }
  return names;
}

/**
 * ZipAR's wavefront on `grid` (step number per cell, like the paper's Fig. 3; row r + 1 starts
 * once row r holds `window` tokens), drawn for window 8 (the largest window that ran on grids
 * narrower than 8) when any ZipAR row ran.
 */
export function ziparWavefrontFigure(
  summary: ExperimentsSummary,
  grid: { height: number; width: number },
): Figure | null {
  const windows = decoderRows(summary).flatMap((r) => {
    const d = r.spec.decoder!;
    return d.kind === "zipar" && !d.adaptive ? [d.window] : [];
  });
  const zipars = decoderRows(summary).filter((r) => r.spec.decoder!.kind === "zipar");
  if (zipars.length === 0) return null;
  const window = grid.width >= 8 ? 8 : Math.max(...windows, 1);
  const schedule = zipar(makeGrid(grid.height, grid.width), { window });
  return scheduleFigure(schedule, {
    title: `ZipAR wavefront, window ${window}: step per cell (${schedule.steps.length} steps)`,
  });
}

/**
 * SJD's acceptance against position in the grid (like the paper's Fig. 10), two panels per SJD
 * row: the share of committed tokens that were accepted drafts (`jacobi.acceptedDraft`
 * averaged over the sampled images) and the acceptance rate of tested drafts (per image,
 * before the batch's minimum).
 */
export function sjdAcceptanceFigure(
  summary: ExperimentsSummary,
  grid: { height: number; width: number },
): Figure | null {
  const rows = decoderRows(summary).filter((r) => r.decoderTrace?.acceptedDraftMap);
  if (rows.length === 0) return null;
  const panels = rows.flatMap((r) => {
    const t = r.decoderTrace!;
    return [{
      title: `${short(r)}: accepted drafts among kept tokens`,
      values: t.acceptedDraftMap!,
    }, {
      title: `${short(r)}: acceptance rate of tested drafts`,
      values: (t.acceptanceRateMap ?? []).map((v) => v ?? NaN),
    }];
  });
  return cellMapsFigure(panels, grid, {
    title: `SJD acceptance against position (${rows[0].decoderTrace!.images} images, batches ` +
      `of ${summary.settings.batchSize})`,
    legend: "fraction",
    domain: [0, 1],
    columns: 4,
  });
}

/** SJD's tokens per model call against the iteration, batch and per image (dashed). */
export function sjdIterationsFigure(summary: ExperimentsSummary): Figure | null {
  const rows = decoderRows(summary).filter((r) => r.decoderTrace?.iterations?.length);
  if (rows.length === 0) return null;
  const B = summary.settings.batchSize;
  // A single call commits a whole number of cells: a centred moving mean shows the trend.
  const smooth = (xs: number[], half: number) =>
    xs.map((_, i) => {
      const w = xs.slice(Math.max(0, i - half), i + half + 1);
      return w.reduce((a, v) => a + v, 0) / w.length;
    });
  let half = 0;
  const series: IterationSeries[] = rows.flatMap((r) => {
    const its = r.decoderTrace!.iterations!;
    // The tail, reached by few batches, is noise: keep iterations most batches reached.
    const most = Math.max(...its.map((p) => p.batches));
    const kept = its.filter((p) => p.batches * 2 >= most);
    half = Math.floor(kept.length / 100);
    const line = (values: number[]) =>
      smooth(values, half).map((tokens, i) => ({ iteration: kept[i].iteration, tokens }));
    return [{
      name: `${short(r)}: committed by a batch of up to ${B}`,
      group: short(r),
      points: line(kept.map((p) => p.committed)),
    }, {
      name: `${short(r)}: per image (accepted drafts + 1)`,
      group: short(r),
      dashed: true,
      points: line(kept.map((p) => p.perImage)),
    }];
  });
  return tokensPerIterationFigure(series, {
    title: "SJD: tokens per model call" +
      (half ? ` (moving mean over ${2 * half + 1} calls)` : ""),
    width: 720,
  });
}

/** The experiments section of the Markdown report; `dir` is the folder relative to the report. */
export function experimentsMarkdown(summary: ExperimentsSummary, dir: string): string {
  const s = summary.settings;
  const models = [...new Set(summary.rows.map((r) => `${r.model.name} (${r.model.parameters})`))];
  const lines = [
    "## Speed and quality (paper Table 2 shape)",
    "",
    `Backend: ${summary.backend} (${summary.backendDetail}) on ${summary.machine}. Models: ${
      models.join(", ")
    }. ${s.perClass} pictures per class x ${
      summary.rows[0]?.images ? summary.rows[0].images / s.perClass : "?"
    } classes per configuration (seed ${s.seed}, guidance ${
      s.cfgScale ?? "from each manifest"
    }); quality against ${summary.reference}; val NLL over ${
      summary.rows[0]?.valNll.grids ?? "?"
    } val grids teacher-forced under the configuration's schedule (the training-free rows: the raster model under raster, unchanged). Timing: ${s.timingRounds} rounds of ${s.latencyImages} single pictures (batch 1) and one batch; ` +
    "the table shows the best round's median single-picture time and the best round's batch " +
    "(other jobs only add time).",
    "",
    speedQualityTable(summary),
    "",
    ...loadNote(summary),
    "Fréchet and KID: emoji-CNN features of the decoded pictures against the reference (lower is " +
    `better; Fréchet ± the std over ${s.bootstrap} bootstrap resamples of the generated side); ` +
    "class acc.: fraction the classifier puts in the conditioning class; pair JS: " +
    "Jensen-Shannon divergence of horizontally / vertically neighbouring code pairs; white " +
    "cells: share of plain white background codes (the amount of background drives much of the " +
    "feature distance of pictures that are not yet emoji).",
    "",
    `![speed vs quality](${dir}/speed_quality.png)`,
    "",
    "## Ablations (paper Table 4 shape)",
    "",
    ablationTable(summary),
    "",
    `![samples](${dir}/samples_overview.png)`,
    "",
    ...decoderMarkdown(summary, dir),
  ];
  if (summary.missing.length) {
    lines.push(`Not run (no model found): ${summary.missing.join(", ")}.`, "");
  }
  lines.push(
    "Per-configuration mosaics (one row per class): " +
      summary.rows.map((r) => `[${r.spec.id}](${dir}/${r.spec.id}/${r.mosaic})`).join(", "),
    "",
  );
  return lines.join("\n");
}

/**
 * Write `speed_quality.{svg,png}` and `samples_overview.{svg,png}` (the first `perRow` samples of
 * every class for each configuration, real val grids last) into `outDir`, and with decoder rows
 * `zipar_wavefront`, `sjd_acceptance` and `sjd_iterations`; returns the PNG names.
 */
export async function writeExperimentFigures(
  summary: ExperimentsSummary,
  outDir: string,
  perRow = 2,
): Promise<string[]> {
  await saveFigure(speedQualityFigure(summary), `${outDir}/speed_quality`);
  const dataDir = summary.data ?? "fixtures/emoji";
  const tokenizer = await loadPatchTokenizer(dataDir);
  const val = await loadEmojiDataset("val", dataDir);
  const C = val.classNames.length;
  const k = Math.min(perRow, summary.settings.perClass);
  const cells = val.height * val.width;
  const pick = (tokens: Uint16Array, rowsOfClass: (c: number) => number[]) => {
    const out = new Uint16Array(C * k * cells);
    let i = 0;
    for (let c = 0; c < C; c++) {
      for (const r of rowsOfClass(c).slice(0, k)) {
        out.set(tokens.subarray(r * cells, (r + 1) * cells), i++ * cells);
      }
    }
    return { n: i, height: val.height, width: val.width, tokens: out.subarray(0, i * cells) };
  };
  const rows: PictureRow[] = [];
  const scale = 1;
  const add = async (label: string, grids: ReturnType<typeof pick>) => {
    const png = await tokensToMosaic(grids, tokenizer, { cols: grids.n, scale, gap: 2 });
    rows.push({
      label,
      png,
      width: 2 + grids.n * (val.width * 2 * scale + 2),
      height: 2 + val.height * 2 * scale + 2,
    });
  };
  for (const r of summary.rows) {
    const file = await loadTokenFile(`${outDir}/${r.spec.id}/tokens.npy`, {
      vocabSize: tokenizer.vocabSize,
      height: val.height,
      width: val.width,
    });
    const per = summary.settings.perClass;
    await add(
      `${r.spec.label} (${r.steps ?? `${(r.modelCalls?.sampling ?? NaN).toFixed(0)} calls`})`,
      pick(file.tokens, (c) => Array.from({ length: per }, (_, j) => c * per + j)),
    );
  }
  const byClass: number[][] = Array.from({ length: C }, () => []);
  val.labels.forEach((l, i) => byClass[l].push(i));
  await add("real val", pick(val.tokens, (c) => byClass[c]));
  const title = `Samples, ${k} per class (classes in manifest order), steps in brackets`;
  // The label column fits the longest label (the adaptive ZipAR row's is the longest).
  const labelWidth = Math.max(270, labelColumn(rows.map((r) => r.label)));
  await saveFigure(labelledRowsFigure(rows, title, labelWidth), `${outDir}/samples_overview`, 1);
  const written = ["speed_quality.png", "samples_overview.png"];
  const grid = { height: val.height, width: val.width };
  for (
    const [name, fig] of [
      ["zipar_wavefront", ziparWavefrontFigure(summary, grid)],
      ["sjd_acceptance", sjdAcceptanceFigure(summary, grid)],
      ["sjd_iterations", sjdIterationsFigure(summary)],
    ] as const
  ) {
    if (!fig) continue;
    await saveFigure(fig, `${outDir}/${name}`);
    written.push(`${name}.png`);
  }
  return written;
}
