/**
 * The main job (`deno task demo`): samples one row of pictures per class with the PAR-4x and
 * the raster fixture models, decodes them with the tokenizer, writes a PNG mosaic per model and
 * a timing table (steps, seconds per image, speed-up); then renders the ordering figures for
 * raster, PAR-4x, PAR-16x, raster-groups-4 and a 5x16x16 video PAR-4x. Prints where all is.
 *
 *   deno task demo [--out out/demo] [--models fixtures/models] [--per-class 4] [--seed 0]
 * @module
 */
import {
  fixtureModel,
  loadOnnxModel,
  makeGrid,
  numberFlag,
  par,
  parseFlags,
  progress,
  raster,
  rasterGroups,
  runMain,
  sampleMany,
  saveFigure,
  type Schedule,
  scheduleFigure,
  stepsOverTimeFigure,
  tokensToMosaic,
  UsageError,
  writeFileAtomic,
  z,
} from "./deps.ts";
import { programTokenizer } from "./_tokenizer.ts";

const Flags = z.object({
  out: z.string().default("out/demo"),
  models: z.string().default("fixtures/models"),
  perClass: numberFlag().pipe(z.number().int().positive().max(32)).default(4),
  seed: numberFlag().pipe(z.number().int()).default(0),
});

async function sampleModels(
  outDir: string,
  modelsDir: string,
  perClass: number,
  seed: number,
): Promise<void> {
  const rows: string[][] = [];
  let rasterSeconds = NaN;
  for (const config of ["raster", "par4"]) {
    const manifest = await fixtureModel(config, modelsDir);
    if (!manifest) {
      throw new UsageError(
        `--models: no ${config} model in ${modelsDir} (emoji-${config}.json or tiny-${config}.json)`,
      );
    }
    const model = await loadOnnxModel(manifest);
    const m = model.manifest;
    const schedule = m.schedule as Schedule;
    const classes = Array.from(
      { length: m.numClasses * perClass },
      (_, i) => Math.floor(i / perClass),
    );
    // One untimed image first: session start-up and JIT would otherwise land on the first model.
    await sampleMany(model, { schedule, classes: [0], seed });
    const bar = progress(`${m.name} (${schedule.steps.length} steps)`, classes.length);
    const run = await sampleMany(model, {
      schedule,
      classes,
      seed,
      batchSize: 8,
      onProgress: (d) => bar.update(d),
    });
    bar.stop();
    const tokenizer = await programTokenizer(model);
    const png = await tokensToMosaic(
      { n: classes.length, height: m.grid.height, width: m.grid.width, tokens: run.tokens },
      tokenizer,
      {
        cols: perClass,
        scale: 2,
      },
    );
    const path = `${outDir}/samples_${config}.png`;
    await writeFileAtomic(path, png);
    const perImage = run.seconds / classes.length;
    if (config === "raster") rasterSeconds = perImage;
    rows.push([
      m.name,
      schedule.name,
      String(schedule.steps.length),
      perImage.toFixed(3),
      `${(rasterSeconds / perImage).toFixed(2)}x`,
      path,
    ]);
    await model.dispose();
  }
  console.log(
    `\nSampling: ${perClass} pictures per class (one row per class), batch 8, CPU, seed ${seed}`,
  );
  printTable(["model", "schedule", "steps", "s/image", "speed-up", "mosaic"], rows);
  await writeFileAtomic(
    `${outDir}/timing.json`,
    JSON.stringify(
      rows.map(([model, schedule, steps, s, speedup]) => ({
        model,
        schedule,
        steps: +steps,
        secondsPerImage: +s,
        speedup,
      })),
      null,
      1,
    ),
  );
}

async function main(): Promise<void> {
  const flags = parseFlags(
    Deno.args,
    Flags,
    [],
    "Usage: deno task demo [--out DIR] [--models DIR] [--per-class N] [--seed N]",
  );
  const outDir = flags.out;
  await sampleModels(outDir, flags.models, flags.perClass, flags.seed);
  console.log("\nGeneration orders:");
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

if (import.meta.main) await runMain("demo", main);
