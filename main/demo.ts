/**
 * The main job (`deno task demo`): renders the ordering figures for raster, PAR-4x, PAR-16x and
 * raster-groups-4 on a 24x24 grid and PAR-4x on a 5x16x16 video grid, plus the tokens-per-step
 * comparison, into an output folder, and prints their paths and step counts.
 * @module
 */
import {
  makeGrid,
  par,
  raster,
  rasterGroups,
  saveFigure,
  type Schedule,
  scheduleFigure,
  stepsOverTimeFigure,
} from "../mod.ts";

const outDir = Deno.args[0] ?? "out/demo";

async function main(): Promise<void> {
  const image = makeGrid(24, 24);
  const video = makeGrid(16, 16, 5);
  const items: { file: string; schedule: Schedule; colorBy?: "region" }[] = [
    { file: "order_raster", schedule: raster(image) },
    { file: "order_par4", schedule: par(image, { m: 2 }) },
    { file: "order_par4_regions", schedule: par(image, { m: 2 }), colorBy: "region" },
    { file: "order_par16", schedule: par(image, { m: 4 }) },
    { file: "order_raster4", schedule: rasterGroups(image, { n: 4 }) },
    { file: "order_video_par4", schedule: par(video, { m: 2 }) },
  ];
  const rows: string[][] = [];
  for (const item of items) {
    const fig = scheduleFigure(item.schedule, {
      colorBy: item.colorBy,
      cellSize: item.schedule.grid.frames > 1 ? 14 : 22,
    });
    const paths = await saveFigure(fig, `${outDir}/${item.file}`);
    rows.push([
      item.schedule.name,
      describe(item.schedule),
      String(item.schedule.steps.length),
      paths.png,
    ]);
  }
  const curves = stepsOverTimeFigure(
    items.filter((i) => i.schedule.grid.frames === 1 && !i.colorBy)
      .map((i) => i.schedule),
  );
  const curvePaths = await saveFigure(curves, `${outDir}/steps_over_time`);
  rows.push(["(all 24x24)", "tokens per step", "-", curvePaths.png]);
  printTable(["schedule", "grid", "steps", "figure"], rows);
  console.log(`\nSVG beside every PNG. Output folder: ${outDir}`);
}

function describe(s: Schedule): string {
  const g = s.grid;
  return g.frames > 1 ? `${g.frames}x${g.height}x${g.width}` : `${g.height}x${g.width}`;
}

function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ");
  console.log(line(head));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    console.error(`demo failed: ${(err as Error).message}`);
    Deno.exit(1);
  }
}
