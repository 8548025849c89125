/**
 * The main job (`deno task demo`): samples one row of pictures per class with the PAR-4x and
 * the raster fixture models, decodes them with the tokenizer, writes a PNG mosaic per model and
 * a timing table (steps, seconds per image, speed-up); then renders the ordering figures for
 * raster, PAR-4x, PAR-16x, raster-groups-4 and a 5x16x16 video PAR-4x. Prints where all is.
 *
 * Video models in `--models` (`video-<config>.json`, else `tiny-video-<config>.json`, for raster,
 * PAR-4x and PAR-16x) are sampled the same way, and drawn per class: a PNG of frame strips (one
 * clip a row) and an animated WebP of the class's clips playing side by side, with their own
 * timing table. Without video models the demo is the image demo alone.
 *
 *   deno task demo [--out out/demo] [--models fixtures/models] [--per-class 4] [--seed 0]
 * @module
 */
import {
  type ARModel,
  clipStrips,
  encodeAnimation,
  fixtureModel,
  type ImageBatch,
  isUserError,
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

/**
 * `perClass` samples of every class (class-major) under the model's trained schedule, in batches
 * of 8, after one untimed sample: session start-up and JIT would otherwise land on the first model.
 */
async function sampleRows(
  model: ARModel,
  perClass: number,
  seed: number,
) {
  const m = model.manifest;
  const schedule = m.schedule as Schedule;
  const classes = Array.from(
    { length: m.numClasses * perClass },
    (_, i) => Math.floor(i / perClass),
  );
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
  return { schedule, classes, run };
}

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
    const { schedule, classes, run } = await sampleRows(model, perClass, seed);
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

/** The video configurations the demo looks for, raster first (the speed-up's reference). */
const VIDEO_CONFIGS = ["raster", "par4", "par16"];

/** Side in pixels each clip of a class animation is upscaled to at least. */
const CLIP_SIDE = 72;

/** A class name as a file name part: lower case, runs of anything else one dash. */
function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "class";
}

/**
 * Sample `perClass` clips per class with every video model in `modelsDir` and draw each class:
 * `video_<config>_<class>.png` (frame strips) and `.webp` (the clips playing side by side).
 * A model whose tokens cannot be decoded (a parity model without a tokenizer) is skipped, said.
 */
async function sampleVideoModels(
  outDir: string,
  modelsDir: string,
  perClass: number,
  seed: number,
): Promise<void> {
  const rows: string[][] = [];
  let rasterSeconds = NaN;
  for (const config of VIDEO_CONFIGS) {
    const manifest = await fixtureModel(config, modelsDir, ["video-", "tiny-video-"]);
    if (!manifest) continue;
    const model = await loadOnnxModel(manifest);
    try {
      const m = model.manifest;
      if (m.grid.frames === 1) continue; // a picture model under a video name: not ours to draw
      const tokenizer = await programTokenizer(model).catch((err) => {
        if (!isUserError(err)) throw err;
        console.log(`\n${m.name}: skipped, its clips cannot be decoded: ${err.message}`);
        return null;
      });
      if (!tokenizer) continue;
      const { schedule, classes, run } = await sampleRows(model, perClass, seed);
      const { frames, height, width } = m.grid;
      const clips = await tokenizer.decode({
        n: classes.length,
        frames,
        height,
        width,
        tokens: run.tokens,
      });
      const per = frames * clips.height * clips.width * 3;
      const scale = Math.max(1, Math.floor(CLIP_SIDE / clips.width));
      for (let c = 0; c < m.numClasses; c++) {
        const name = m.classNames?.[c] ?? `class ${c}`;
        const mine: ImageBatch = {
          ...clips,
          n: perClass,
          data: clips.data.subarray(c * perClass * per, (c + 1) * perClass * per),
        };
        const base = `${outDir}/video_${config}_${slug(name)}`;
        const labels = Array.from({ length: perClass }, (_, i) => `${name} ${i + 1}`);
        await writeFileAtomic(
          `${base}.png`,
          await clipStrips(mine, { labels, title: `${m.name}: ${name}` }),
        );
        await writeFileAtomic(
          `${base}.webp`,
          await encodeAnimation(mine, { cols: perClass, scale, gap: 2 }),
        );
      }
      const perClip = run.seconds / classes.length;
      if (config === "raster") rasterSeconds = perClip;
      rows.push([
        m.name,
        schedule.name,
        String(schedule.steps.length),
        perClip.toFixed(3),
        Number.isNaN(rasterSeconds) ? "-" : `${(rasterSeconds / perClip).toFixed(2)}x`,
        `${outDir}/video_${config}_<class>.png, .webp`,
      ]);
    } finally {
      await model.dispose();
    }
  }
  if (rows.length === 0) return;
  console.log(
    `\nVideo sampling: ${perClass} clips per class, batch 8, CPU, seed ${seed}; per class a PNG ` +
      "of frame strips and a WebP of the clips playing",
  );
  printTable(["model", "schedule", "steps", "s/clip", "speed-up", "pictures"], rows);
  await writeFileAtomic(
    `${outDir}/video_timing.json`,
    JSON.stringify(
      rows.map(([model, schedule, steps, s, speedup]) => ({
        model,
        schedule,
        steps: +steps,
        secondsPerClip: +s,
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
  await sampleVideoModels(outDir, flags.models, flags.perClass, flags.seed);
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
