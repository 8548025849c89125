/**
 * CPU backend against the WebGPU backend, measured in one run: seconds per image for raster 1x,
 * PAR-4x and PAR-16x at batch 1 and 8 (guidance on: rows doubled), speed-ups against raster on
 * the same backend and batch, and what limits them: the per-step time of each schedule against
 * raster's (speed-up = step-count limit / step-time ratio), the floor of one step (single slot,
 * short cache), and the sampler's own share (wall minus runtime).
 *
 *   deno run -A bench/gpu_bench.ts [--models fixtures/models --prefix tiny-] [--model M.json]
 *     [--backends cpu,webgpu] [--schedules raster,par4,par16] [--batches 1,8] [--repeats 1]
 *     [--warmup 1] [--cfg S] [--threads N] [--out bench/results/gpu_bench.json]
 *
 * `--model` runs every schedule on one model (e.g. a PAR-L-shaped export with 15 transition
 * tokens, gpu/README.md); otherwise schedule X runs on `<models>/<prefix>X.json`. Writes the
 * JSON atomically and prints a table. On a software adapter (llvmpipe) the WebGPU numbers only
 * show that the plumbing works.
 * @module
 */
import {
  type ARModel,
  BackendSchema,
  loadModel,
  makeGrid,
  numberFlag,
  parseFlags,
  runMain,
  sample,
  type SampleResult,
  scheduleByName,
  UsageError,
  webGpuAdapterInfo,
  writeFileAtomic,
  z,
} from "../main/deps.ts";

const list = (what: string) =>
  z.string().transform((s, ctx) => {
    const items = s.split(",").map((x) => x.trim()).filter(Boolean);
    if (!items.length) ctx.addIssue({ code: "custom", message: `needs at least one ${what}` });
    return items;
  });

const Flags = z.object({
  models: z.string().default("fixtures/models"),
  prefix: z.string().default("tiny-"),
  model: z.string().optional(),
  backends: list("backend").pipe(z.array(BackendSchema)).default(["cpu", "webgpu"]),
  schedules: list("schedule").default(["raster", "par4", "par16"]),
  batches: list("batch").pipe(
    z.array(z.string().regex(/^[1-9][0-9]*$/, "must be positive integers").transform(Number)),
  ).default([1, 8]),
  repeats: numberFlag().pipe(z.number().int().positive()).default(1),
  warmup: numberFlag().pipe(z.number().int().min(0)).default(1),
  cfg: numberFlag().pipe(z.number().min(0)).optional(),
  threads: numberFlag().pipe(z.number().int().positive()).optional(),
  out: z.string().default("bench/results/gpu_bench.json"),
});

const USAGE = "Usage: deno run -A bench/gpu_bench.ts [--models DIR --prefix P | --model M.json] " +
  "[--backends cpu,webgpu] [--schedules raster,par4,par16] [--batches 1,8] [--repeats N] " +
  "[--warmup N] [--cfg S] [--threads N] [--out FILE]";

/** One measured configuration. */
interface Row {
  backend: string;
  /** The backend table's name (`cpu`, `cuda`, `webgpu`). */
  backendName: string;
  schedule: string;
  batch: number;
  steps: number;
  secondsPerImage: number;
  /** Raster's seconds per image over this one's (same backend and batch). */
  speedup: number;
  /** 576 / steps: the speed-up if every step cost the same. */
  stepLimit: number;
  msPerStep: number;
  /** This schedule's ms per step over raster's: speed-up = stepLimit / stepTimeRatio. */
  stepTimeRatio: number;
  /** Runtime ms per step (inside session.run, logits download included). */
  modelMsPerStep: number;
  /** Mean runtime ms of the first 8 single-slot steps after the prefill (short cache). */
  floorMs: number;
  /** Mean runtime ms of the steps with the most slots. */
  widestStepMs: number;
  widestStepSlots: number;
  /** Share of wall time outside the runtime (inputs, guidance, drawing). */
  samplerShare: number;
}

function stepStats(run: SampleResult) {
  const slots = run.trace.map((t, s) => s === 0 ? 1 : Math.max(t.cells.length, 1));
  const single = run.trace.slice(1).filter((_, i) => slots[i + 1] === 1).slice(0, 8);
  const floorMs = single.length
    ? single.reduce((a, t) => a + t.modelSeconds, 0) / single.length * 1000
    : NaN;
  const widest = Math.max(...slots);
  const wide = run.trace.filter((_, s) => slots[s] === widest && s > 0);
  const widestStepMs = wide.reduce((a, t) => a + t.modelSeconds, 0) / Math.max(wide.length, 1) *
    1000;
  return { floorMs, widestStepMs, widestStepSlots: widest };
}

async function machine(): Promise<string> {
  let cpu = "";
  try {
    cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1] ?? "";
  } catch {
    // not Linux
  }
  return `${Deno.build.os}-${Deno.build.arch}, ${navigator.hardwareConcurrency} cores${
    cpu ? ` (${cpu.trim()})` : ""
  }`;
}

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, Flags, [], USAGE);
  const grid = makeGrid(24, 24);
  const adapter = await webGpuAdapterInfo();
  if (f.backends.includes("webgpu") && !adapter) {
    throw new UsageError(
      "--backends webgpu: no WebGPU adapter here. Fix: install a Vulkan driver (gpu/README.md) " +
        "or pass --backends cpu",
    );
  }
  const rows: Row[] = [];
  for (const backendName of f.backends) {
    const base = new Map<number, { perImage: number; msPerStep: number }>();
    for (const scheduleName of f.schedules) {
      const schedule = scheduleByName(grid, scheduleName);
      const path = f.model ?? `${f.models}/${f.prefix}${scheduleName}.json`;
      const model: ARModel = await loadModel(path, { backend: backendName, threads: f.threads });
      for (const batch of f.batches) {
        const classes = Array.from({ length: batch }, (_, i) => i % model.manifest.numClasses);
        const opts = { schedule, classes, cfgScale: f.cfg, onWarning: () => {} };
        for (let w = 0; w < f.warmup; w++) await sample(model, { ...opts, seed: 1 });
        let best: SampleResult | undefined;
        for (let r = 0; r < f.repeats; r++) {
          const out = await sample(model, { ...opts, seed: 2 + r });
          if (!best || out.seconds < best.seconds) best = out;
        }
        const run = best!;
        const perImage = run.seconds / batch;
        const msPerStep = run.seconds / schedule.steps.length * 1000;
        if (scheduleName === "raster") base.set(batch, { perImage, msPerStep });
        const b = base.get(batch);
        rows.push({
          backend: model.backend,
          backendName: model.backendName,
          schedule: scheduleName,
          batch,
          steps: schedule.steps.length,
          secondsPerImage: perImage,
          speedup: b ? b.perImage / perImage : NaN,
          stepLimit: 576 / schedule.steps.length,
          msPerStep,
          stepTimeRatio: b ? msPerStep / b.msPerStep : NaN,
          modelMsPerStep: run.modelSeconds / schedule.steps.length * 1000,
          ...stepStats(run),
          samplerShare: 1 - run.modelSeconds / run.seconds,
        });
        console.error(
          `[gpu_bench] ${backendName} ${scheduleName} batch ${batch}: ${
            perImage.toFixed(3)
          } s/image, ${msPerStep.toFixed(1)} ms/step`,
        );
      }
      await model.dispose();
    }
  }
  const result = {
    machine: await machine(),
    adapter,
    models: f.model ?? `${f.models}/${f.prefix}*`,
    cfgScale: f.cfg ?? "manifest default",
    date: new Date().toISOString().slice(0, 10),
    rows,
  };
  await writeFileAtomic(f.out, JSON.stringify(result, null, 1));
  console.log(`gpu bench on ${result.machine}; models ${result.models}`);
  if (adapter) {
    console.log(
      `WebGPU adapter: ${adapter.name}${adapter.fallback ? " (software fallback)" : ""}${
        adapter.shaderF16 ? ", shader-f16" : ""
      }`,
    );
  }
  console.log(
    "| backend | schedule | batch | steps | s/image | speed-up | limit | ms/step | step-time ratio | runtime ms/step | floor ms | widest step ms (slots) | sampler share |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.backendName} | ${r.schedule} | ${r.batch} | ${r.steps} | ${
        r.secondsPerImage.toFixed(3)
      } | ${r.speedup.toFixed(2)}x | ${r.stepLimit.toFixed(2)}x | ${r.msPerStep.toFixed(2)} | ${
        r.stepTimeRatio.toFixed(2)
      } | ${r.modelMsPerStep.toFixed(2)} | ${r.floorMs.toFixed(2)} | ${
        r.widestStepMs.toFixed(2)
      } (${r.widestStepSlots}) | ${(r.samplerShare * 100).toFixed(1)}% |`,
    );
  }
  console.log(`wrote ${f.out}`);
}

if (import.meta.main) await runMain("gpu_bench", main);
