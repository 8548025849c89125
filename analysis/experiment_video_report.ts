/**
 * The video section of the analysis report: the speed/quality table of the video rows with the
 * real-clip floor, the entropy probes across frames, and the figures.
 * @module
 */
import type { DistanceMean } from "./deps.ts";
import type { VideoSummary } from "./experiment_video.ts";

function fmt(x: number | null | undefined, digits = 3): string {
  return x === undefined || x === null || Number.isNaN(x) ? "-" : x.toFixed(digits);
}

/** Mean I at the given distances of a curve ("-" where the grid has no such distance). */
function at(points: readonly DistanceMean[], distances: readonly number[]): string[] {
  return distances.map((d) => fmt(points.find((p) => Math.abs(p.distance - d) < 1e-9)?.mean));
}

/**
 * Markdown of the video section; `dir` is the video folder relative to the report.
 * @example
 * lines.push(videoMarkdown(summary, "experiments/video"));
 */
export function videoMarkdown(summary: VideoSummary, dir: string): string {
  const lines = ["## Video: clip schedules", ""];
  if (summary.status === "skipped") {
    lines.push(`Skipped: ${summary.note}.`, "");
    return lines.join("\n");
  }
  const s = summary.settings;
  const cls = summary.classifier;
  lines.push(
    `Data: ${summary.data}. ${s.perClass} clip(s) per motion class per configuration, seed ${s.seed}; ` +
      `timing: batch 1 (median of ${s.latencyImages}, best of ${s.timingRounds} rounds) and ` +
      `batches of ${s.batchSize}, all configurations round-robin, backend ${summary.backend}.`,
    "",
  );
  if (cls) {
    lines.push(
      `Scored with the clip classifier ${cls.name} (its val accuracy: ${
        fmt(cls.valAccuracyReal)
      } on real clips, ${fmt(cls.valAccuracyRecon)} on their token reconstructions, the ceiling ` +
        `of the class accuracy) against ${summary.reference}. Temporal consistency is the share ` +
        "of cells whose token is the same in the next frame; the JS columns are the Jensen-" +
        "Shannon divergence (bits) of neighbour-pair histograms against the reference: right, " +
        "below, and the same cell in the next frame.",
      "",
    );
  }
  if (summary.realConsistency) {
    const rc = summary.realConsistency;
    lines.push(
      `Temporal consistency of real clips: ${fmt(rc.val)} (every val clip)` +
        (rc.reference === null ? "." : `, ${fmt(rc.reference)} (the reference's train clips).`),
      "",
    );
  }
  lines.push(
    "| configuration | model | steps | s/clip, batch 1 | s/clip, batch | speed-up (batch 1) | " +
      "Fréchet | KID | class acc. | temporal consistency | JS right | JS below | JS next frame |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  );
  for (const r of summary.rows) {
    const q = r.quality;
    lines.push(
      `| ${r.spec.label} | ${r.model.name} | ${r.steps ?? "-"} | ${fmt(r.latencySeconds)} | ${
        fmt(r.secondsPerImage)
      } | ${r.speedupLatency === null ? "-" : `${fmt(r.speedupLatency, 2)}x`} | ${
        fmt(q?.frechet, 2)
      } | ${fmt(q?.kid.mean, 4)} | ${fmt(q?.classAccuracy, 2)} | ${fmt(r.temporalConsistency)} | ${
        fmt(q?.pairJS.horizontal)
      } | ${fmt(q?.pairJS.vertical)} | ${fmt(q?.pairJS.temporal)} |`,
    );
  }
  const f = summary.floor;
  if (f) {
    lines.push(
      `| real val clips (floor) | - | - | - | - | - | ${fmt(f.frechet, 2)} | ${
        fmt(f.kid.mean, 4)
      } | ${fmt(f.classAccuracy, 2)} | ${fmt(f.temporalConsistency)} | ${
        fmt(f.pairJS.horizontal)
      } | ${fmt(f.pairJS.vertical)} | ${fmt(f.pairJS.temporal)} |`,
    );
  }
  lines.push("");
  for (const r of summary.rows) {
    if (r.qualityNote) lines.push(`- ${r.spec.id} (${r.model.name}): ${r.qualityNote}.`);
  }
  if (summary.missing.length) {
    lines.push(`- No model for: ${summary.missing.join(", ")}.`);
  }
  if (summary.note) lines.push(`- ${summary.note}.`);
  lines.push("");
  for (const r of summary.rows) {
    if (r.strips) lines.push(`![${r.spec.id} samples](${dir}/${r.spec.id}/${r.strips})`);
  }
  const p = summary.probe;
  if (p) {
    const ds = [1, 2, 3, 4];
    const passes = [{ tag: `K = ${p.vocabSize}`, c: p.fine }];
    if (p.coarse) passes.push({ tag: `G = ${p.coarse.groups} clusters`, c: p.coarse });
    lines.push(
      "",
      `Entropy probes across frames: ${p.clips} real val clips, ${p.estimator} estimator, the ` +
        `codes and the codes coarse-grained to codebook clusters (${
          fmt(p.seconds, 1)
        } s). Mean mutual information (bits); "next frame, d = 0" is the same cell:`,
      "",
      "| codes | pairs | d = 0 | " + ds.map((d) => `d = ${d}`).join(" | ") + " |",
      "|---|---|---|" + ds.map(() => "---").join("|") + "|",
      ...passes.flatMap(({ tag, c }) => [
        `| ${tag} | same frame, d cells apart | - | ${at(c.spatial, ds).join(" | ")} |`,
        `| ${tag} | same cell, d frames apart | - | ${at(c.temporal, ds).join(" | ")} |`,
        `| ${tag} | next frame, d cells apart | ${at(c.nextFrame, [0, ...ds]).join(" | ")} |`,
      ]),
      "",
      `![mutual information across space and time](${dir}/${p.figure})`,
    );
  }
  lines.push("");
  return lines.join("\n");
}
