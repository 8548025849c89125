/**
 * Tables and figures of the speed/quality experiments: the paper's Table 2 shape (one row per
 * configuration plus the real-data floor), its Table 4 ablations side by side with the paper's
 * FID, a speed/quality plot, and a labelled overview of samples. Used by `deno task analyze` and
 * `notebooks/03_speed_quality.ipynb`.
 * @module
 */
import {
  type Figure,
  hstack,
  labelledRowsFigure,
  loadEmojiDataset,
  loadPatchTokenizer,
  loadTokenFile,
  type PictureRow,
  Plot,
  plotFigure,
  saveFigure,
  tokensToMosaic,
} from "./deps.ts";
import type { ExperimentRow, ExperimentsSummary } from "./experiments.ts";

/** One ablation of the paper's Table 4: settings, the row each maps to, and the paper's FID. */
export interface AblationSpec {
  /** What is varied. */
  ablation: string;
  /** Paper model the FIDs come from. */
  paperModel: string;
  /** Settings in the paper's order. */
  settings: { setting: string; id: string; paperFid: number }[];
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
      { setting: "1 (raster, 576 steps)", id: "raster", paperFid: 2.34 },
      { setting: "4 (par4, 147 steps)", id: "par4", paperFid: 2.35 },
      { setting: "16 (par16, 51 steps)", id: "par16", paperFid: 3.02 },
    ],
  },
];

const f = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(digits);

/** The Table 2-shaped Markdown table: speed and quality per configuration, floor last. */
export function speedQualityTable(summary: ExperimentsSummary): string {
  const b = summary.settings.batchSize;
  const head = [
    "| configuration | model | steps | s/image (batch 1) | speed-up | s/image (batch " + b +
    ") | speed-up | Fréchet | KID x 1e3 | class acc. | pair JS h / v (bits) | white cells | val NLL (nats) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  const rows = summary.rows.map((r) => {
    const q = r.quality;
    return `| ${r.spec.label} | ${r.model.name} | ${r.steps} | ${f(r.latencySeconds, 3)} | ${
      r.speedupLatency ? f(r.speedupLatency) + "x" : "-"
    } | ${f(r.secondsPerImage, 3)} | ${
      r.speedupThroughput ? f(r.speedupThroughput) + "x" : "-"
    } | ${f(q.frechet)} ± ${f(q.frechetStd)} | ${f(q.kid.mean * 1e3, 1)} ± ${
      f(q.kid.std * 1e3, 1)
    } | ${f(q.classAccuracy)} | ${f(q.pairJS.horizontal, 3)} / ${f(q.pairJS.vertical, 3)} | ${
      f(r.whiteFraction)
    } | ${f(r.valNll.nats, 3)} |`;
  });
  const q = summary.floor.quality;
  rows.push(
    `| real val (floor, n = ${q.n}) | - | - | - | - | - | - | ${f(q.frechet)} ± ${
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
      `| ${a.ablation === last ? "" : `${a.ablation} (${a.paperModel})`} | ${a.setting} | ${
        a.paperFid.toFixed(2)
      } | ${f(q.frechet)} ± ${f(q.frechetStd)} | ${f(q.kid.mean * 1e3, 1)} | ${
        f(q.pairJS.horizontal, 3)
      } / ${f(q.pairJS.vertical, 3)} | ${f(q.classAccuracy)} | ${f(a.row.valNll.nats, 3)} |`,
    );
    last = a.ablation;
  }
  return lines.join("\n");
}

/**
 * Speed against quality, one point per configuration: batch-1 seconds per image (log x; the
 * throughput when latency was skipped) against Fréchet distance and horizontal pair JS; dashed
 * line: the real-data floor.
 */
export function speedQualityFigure(summary: ExperimentsSummary, width = 380): Figure {
  const latency = summary.rows.every((r) => r.latencySeconds !== null);
  const points = summary.rows.map((r) => ({
    label: r.spec.short ?? r.spec.label,
    x: latency ? r.latencySeconds! : r.secondsPerImage,
    frechet: r.quality.frechet,
    js: r.quality.pairJS.horizontal,
    kind: r.spec.cross ? "cross pairing" : r.spec.id.startsWith("par4-") ? "ablation" : "main",
  }));
  const rank = (key: "frechet" | "js") => [...points].sort((a, b) => a[key] - b[key]);
  const xLabel = latency
    ? "seconds per image, batch 1 (log) →"
    : `seconds per image, batch ${summary.settings.batchSize} (log) →`;
  const panel = (y: "frechet" | "js", yLabel: string, floor: number, title: string) =>
    plotFigure({
      title,
      width,
      height: 300,
      marginLeft: 50,
      marginRight: 20,
      x: { type: "log", label: xLabel, inset: 20, tickFormat: "~g" },
      y: { label: yLabel, grid: true, zero: false, inset: 10 },
      color: {
        domain: ["main", "ablation", "cross pairing"],
        range: ["#1f77b4", "#d62728", "#7f7f7f"],
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
        Plot.dot(points, { x: "x", y, fill: "kind", r: 4 }),
        // Labels alternate above and below by rank of y, which separates most neighbours.
        ...[0, 1].map((side) =>
          Plot.text(rank(y).filter((_, i) => i % 2 === side), {
            x: "x",
            y,
            text: "label",
            dy: side ? 12 : -9,
            fontSize: 10,
            fill: "kind",
          })
        ),
      ],
    });
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
    } val grids teacher-forced under the configuration's schedule. Timing: ${s.timingRounds} rounds of ${s.latencyImages} single pictures (batch 1) and one batch; ` +
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
 * every class for each configuration, real val grids last) into `outDir`; returns the PNG names.
 */
export async function writeExperimentFigures(
  summary: ExperimentsSummary,
  outDir: string,
  perRow = 2,
): Promise<string[]> {
  await saveFigure(speedQualityFigure(summary), `${outDir}/speed_quality`);
  const tokenizer = await loadPatchTokenizer();
  const val = await loadEmojiDataset("val");
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
      `${r.spec.label} (${r.steps})`,
      pick(file.tokens, (c) => Array.from({ length: per }, (_, j) => c * per + j)),
    );
  }
  const byClass: number[][] = Array.from({ length: C }, () => []);
  val.labels.forEach((l, i) => byClass[l].push(i));
  await add("real val", pick(val.tokens, (c) => byClass[c]));
  const title = `Samples, ${k} per class (classes in manifest order), steps in brackets`;
  await saveFigure(labelledRowsFigure(rows, title, 270), `${outDir}/samples_overview`, 1);
  return ["speed_quality.png", "samples_overview.png"];
}
