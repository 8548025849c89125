/**
 * Sampler speed (run by `deno task bench`; ratios measured in one run on one machine):
 * seconds per image for raster 1x, PAR-4x, PAR-16x and raster-groups-4, each on the model
 * trained for it, at batch 1 and 8 on the CPU backend; speed-ups against 1x; the sampler's own
 * share of wall time; and the KV-cache cost per step against past length.
 *
 *   deno run -A bench/sampler_speed.ts [--models DIR] [--prefix emoji-|tiny-] [--repeats N]
 *     [--threads N] [--draw auto|js] [--out bench/results/sampler_speed.json]
 *
 * `--draw auto` draws in the graph where the model has a sampling head (the default of
 * `sample`), `js` always with the JavaScript reference draw.
 *
 * Models: `<prefix><config>.json`; without --prefix, the experiment model (`emoji-`) where it
 * exists, else the tiny one. Timing is round-robin: every schedule once per round, best round
 * kept, so a slow spell of a shared machine does not land on one schedule only. Writes the JSON
 * atomically and prints a table.
 * @module
 */
import {
  fixtureModel,
  loadOnnxModel,
  makeGrid,
  numberFlag,
  parseFlags,
  runMain,
  sample,
  scheduleByName,
  UsageError,
  writeFileAtomic,
  z,
} from "../main/deps.ts";

const Flags = z.object({
  models: z.string().default("fixtures/models"),
  prefix: z.string().optional(),
  out: z.string().default("bench/results/sampler_speed.json"),
  repeats: numberFlag().pipe(z.number().int().positive()).default(3),
  threads: numberFlag().pipe(z.number().int().positive()).optional(),
  draw: z.enum(["auto", "js"]).default("auto"),
});

/** Schedules and the configuration (model) each runs on. */
const RUNS = [
  { schedule: "raster", model: "raster" },
  { schedule: "par4", model: "par4" },
  { schedule: "par16", model: "par16" },
  { schedule: "raster4", model: "raster4" },
];

interface Row {
  schedule: string;
  model: string;
  batch: number;
  steps: number;
  secondsPerImage: number;
  speedup: number;
  stepLimit: number;
  samplerShare: number;
  msPerStep: number;
}

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, Flags);
  const rows: Row[] = [];
  const drawOnDevice = f.draw === "js" ? false : undefined;
  const machine = `${Deno.build.os}-${Deno.build.arch}, ${navigator.hardwareConcurrency} cores`;
  const modelPath = async (config: string): Promise<string> => {
    if (f.prefix !== undefined) return `${f.models}/${f.prefix}${config}.json`;
    const url = await fixtureModel(config, f.models);
    if (!url) {
      throw new UsageError(
        `--models: no emoji-${config}.json or tiny-${config}.json in ${f.models}. Fix: pass the ` +
          "folder that has them",
      );
    }
    return decodeURIComponent(url.pathname);
  };
  const names = new Set<string>();
  for (const batch of [1, 8]) {
    const loaded = [];
    for (const run of RUNS) {
      const model = await loadOnnxModel(await modelPath(run.model), { threads: f.threads });
      names.add(model.manifest.name);
      const { height, width } = model.manifest.grid;
      const schedule = scheduleByName(makeGrid(height, width), run.schedule);
      const classes = Array.from({ length: batch }, (_, i) => i % model.manifest.numClasses);
      // One warm-up run each (session initialisation, allocator).
      await sample(model, { schedule, classes, seed: 1, drawOnDevice });
      loaded.push({ run, model, schedule, classes, best: { seconds: Infinity, modelSeconds: 0 } });
    }
    for (let r = 0; r < f.repeats; r++) {
      for (const l of loaded) {
        const out = await sample(l.model, {
          schedule: l.schedule,
          classes: l.classes,
          seed: 2 + r,
          drawOnDevice,
        });
        if (out.seconds < l.best.seconds) l.best = out;
      }
    }
    const base = loaded[0].best.seconds / batch;
    for (const { run, model, schedule, best } of loaded) {
      const perImage = best.seconds / batch;
      rows.push({
        schedule: run.schedule,
        model: model.manifest.name,
        batch,
        steps: schedule.steps.length,
        secondsPerImage: perImage,
        speedup: base / perImage,
        stepLimit: schedule.grid.height * schedule.grid.width / schedule.steps.length,
        samplerShare: 1 - best.modelSeconds / best.seconds,
        msPerStep: (best.seconds / schedule.steps.length) * 1000,
      });
      await model.dispose();
    }
  }
  // KV-cache cost per step against past length: one single-slot step at growing past lengths.
  const model = await loadOnnxModel(await modelPath("raster"), { threads: f.threads });
  const kv: { pastLength: number; msPerStep: number; cacheBytes: number; copyMs: number }[] = [];
  const m = model.manifest;
  const raster = scheduleByName(makeGrid(m.grid.height, m.grid.width), "raster");
  // One raster run; a step's time is the mean over the 8 steps from `past` on (timer noise).
  await sample(model, { schedule: raster, classes: [0], cfgScale: 1, seed: 0 });
  const run = await sample(model, { schedule: raster, classes: [0], cfgScale: 1, seed: 0 });
  const cells = m.grid.height * m.grid.width;
  const pasts = [0, 0.11, 0.22, 0.44, 0.67, 0.89, 1].map((x) =>
    Math.min(cells - 9, Math.round(x * cells))
  );
  for (const past of pasts) {
    const window = run.trace.slice(past, past + 8);
    const t = { wallSeconds: window.reduce((a, x) => a + x.wallSeconds, 0) / window.length };
    const bytes = 2 * m.layers * m.kvHeads * (past + 1) * m.headDim * 4;
    // What re-copying the whole cache once costs (the runtime copies present tensors out).
    const src = new Float32Array(bytes / 4);
    const dst = new Float32Array(bytes / 4);
    const c0 = performance.now();
    for (let i = 0; i < 200; i++) dst.set(src);
    const copyMs = (performance.now() - c0) / 200;
    kv.push({ pastLength: past, msPerStep: t.wallSeconds * 1000, cacheBytes: bytes, copyMs });
  }
  await model.dispose();
  const result = {
    machine,
    backend: "onnxruntime-node cpu",
    draw: f.draw,
    models: [...names].join(", "),
    repeats: f.repeats,
    date: new Date().toISOString().slice(0, 10),
    rows,
    kvCache: kv,
  };
  await writeFileAtomic(f.out, JSON.stringify(result, null, 1));
  console.log(`sampler speed on ${machine} (${result.backend}, ${result.models})`);
  console.log("schedule  batch  steps  s/image   speed-up  limit   sampler share  ms/step");
  for (const r of rows) {
    console.log(
      `${r.schedule.padEnd(8)}  ${String(r.batch).padStart(5)}  ${String(r.steps).padStart(5)}  ${
        r.secondsPerImage.toFixed(4).padStart(7)
      }  ${r.speedup.toFixed(2).padStart(7)}x  ${r.stepLimit.toFixed(2).padStart(5)}x  ${
        (r.samplerShare * 100).toFixed(1).padStart(12)
      }%  ${r.msPerStep.toFixed(2).padStart(7)}`,
    );
  }
  console.log("KV cache: past length -> ms per step (cache bytes, ms to copy them once)");
  for (const k of kv) {
    console.log(
      `  ${String(k.pastLength).padStart(4)} -> ${k.msPerStep.toFixed(3)} ms (${k.cacheBytes} B, ${
        k.copyMs.toFixed(4)
      } ms)`,
    );
  }
  console.log(`wrote ${f.out}`);
}

if (import.meta.main) await runMain("sampler_speed", main);
