/**
 * parlab's CPU sampler against the PyTorch reference sampler on the same weights, measured in one
 * run on one machine (rounds alternate between the two, best round kept).
 *
 *   /usr/bin/python3 -m python.bench_models --out out/bench-models --shapes w256
 *   deno task bench:torch [--model out/bench-models/w256-fused.json] [--shape w256]
 *     [--schedules raster,par4,par16] [--batches 1,8] [--rounds 3] [--torch-threads 1,2]
 *     [--threads N] [--draw js|device] [--out bench/results/vs_torch.json]
 *
 * The PyTorch side is gpu/par_l_reference.py `--time --device cpu`: python/sampler.py's
 * reference sampler (the official algorithm) with the model in eager float32 and its KV cache,
 * at every `--torch-threads` count (its best count is kept per row). Its weights are
 * python/bench_models.py's seeded ones, the same the ONNX file was exported from. Two PyTorch
 * figures are reported: the whole sampler (python/sampler.py draws with NumPy), and its model
 * steps alone (what any PyTorch sampler around this eager model must spend at least). parlab's
 * side is `sample()` on onnxruntime-node (guidance 1.5 on both sides, 2 x batch rows a step),
 * with the JavaScript draw (`--draw js`, the reference) or the manifest's sampling head.
 * @module
 */
import {
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
  model: z.string().default("out/bench-models/w256-fused.json"),
  shape: z.enum(["w256", "par-l"]).default("w256"),
  schedules: z.string().default("raster,par4,par16"),
  batches: z.string().default("1,8"),
  rounds: numberFlag().pipe(z.number().int().positive()).default(3),
  torchThreads: z.string().default("1,2"),
  threads: numberFlag().pipe(z.number().int().positive()).optional(),
  draw: z.enum(["js", "device"]).default("js"),
  out: z.string().default("bench/results/vs_torch.json"),
});

interface TorchRow {
  schedule: string;
  batch: number;
  steps: number;
  secondsPerImage: number;
  modelMsPerStep: number;
}

/** One run of the PyTorch reference over every schedule and batch (it warms up per row). */
async function torchRun(f: z.infer<typeof Flags>, threads: number): Promise<TorchRow[]> {
  const out = await Deno.makeTempFile({ suffix: ".json" });
  const cmd = new Deno.Command("/usr/bin/python3", {
    args: [
      "gpu/par_l_reference.py",
      "--shape",
      f.shape,
      "--time",
      "--device",
      "cpu",
      "--threads",
      String(threads),
      "--schedules",
      f.schedules,
      "--batches",
      f.batches,
      "--repeats",
      "1",
      "--cfg",
      "1.5",
      "--out",
      out,
    ],
    stdout: "null",
    stderr: "piped",
  });
  const res = await cmd.output();
  if (!res.success) {
    throw new UsageError(
      `the PyTorch reference failed: ${
        new TextDecoder().decode(res.stderr).trim().split("\n").pop()
      }` +
        ". Fix: run it by hand (gpu/par_l_reference.py --shape " + f.shape +
        " --time --device cpu)",
    );
  }
  const rows = JSON.parse(await Deno.readTextFile(out)).rows as TorchRow[];
  await Deno.remove(out);
  return rows;
}

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, Flags);
  const names = f.schedules.split(",");
  const batches = f.batches.split(",").map(Number);
  const torchThreads = f.torchThreads.split(",").map(Number);
  const model = await loadOnnxModel(f.model, { threads: f.threads, skipHashCheck: true });
  const m = model.manifest;
  if (f.draw === "device" && !m.samplingHead) {
    throw new UsageError(
      `--draw device: ${f.model} has no sampling head. Fix: export it with --sampling-head`,
    );
  }
  const grid = makeGrid(m.grid.height, m.grid.width);
  const key = (s: string, b: number) => `${s}/${b}`;
  const ours = new Map<string, { seconds: number; modelSeconds: number; steps: number }>();
  const torch = new Map<string, { perImage: number; modelPerImage: number; threads: number }>();
  for (const name of names) {
    for (const batch of batches) { // warm-up: session, allocator, caches
      const classes = Array.from({ length: batch }, (_, i) => i % m.numClasses);
      await sample(model, {
        schedule: scheduleByName(grid, name),
        classes,
        cfgScale: 1.5,
        drawOnDevice: f.draw === "device",
      });
    }
  }
  for (let r = 0; r < f.rounds; r++) {
    for (const threads of torchThreads) {
      for (const row of await torchRun(f, threads)) {
        const k = key(row.schedule, row.batch);
        const modelPerImage = (row.modelMsPerStep * row.steps) / 1000 / row.batch;
        const best = torch.get(k);
        if (!best || row.secondsPerImage < best.perImage) {
          torch.set(k, { perImage: row.secondsPerImage, modelPerImage, threads });
        }
      }
    }
    for (const name of names) {
      for (const batch of batches) {
        const schedule = scheduleByName(grid, name);
        const classes = Array.from({ length: batch }, (_, i) => i % m.numClasses);
        const out = await sample(model, {
          schedule,
          classes,
          cfgScale: 1.5,
          seed: r,
          drawOnDevice: f.draw === "device",
        });
        const k = key(name, batch);
        const best = ours.get(k);
        if (!best || out.seconds < best.seconds) {
          ours.set(k, { ...out, steps: schedule.steps.length });
        }
      }
    }
    console.log(`round ${r + 1}/${f.rounds} done`);
  }
  await model.dispose();
  const rows = [];
  for (const batch of batches) {
    const base = ours.get(key(names[0], batch))!;
    for (const name of names) {
      const o = ours.get(key(name, batch))!;
      const t = torch.get(key(name, batch));
      if (!t) throw new Error(`no PyTorch timing for ${name} batch ${batch}`);
      const perImage = o.seconds / batch;
      rows.push({
        schedule: name,
        batch,
        steps: o.steps,
        parlabSecondsPerImage: perImage,
        parlabSpeedupVsFirst: base.seconds / o.seconds,
        parlabSamplerShare: 1 - o.modelSeconds / o.seconds,
        torchSecondsPerImage: t.perImage,
        torchThreads: t.threads,
        torchModelSecondsPerImage: t.modelPerImage,
        vsTorch: t.perImage / perImage,
        vsTorchModelOnly: t.modelPerImage / perImage,
      });
    }
  }
  const result = {
    machine: `${Deno.build.os}-${Deno.build.arch}, ${navigator.hardwareConcurrency} cores`,
    model: m.name,
    graph: m.graph,
    draw: f.draw,
    date: new Date().toISOString().slice(0, 10),
    rounds: f.rounds,
    rows,
  };
  await writeFileAtomic(f.out, JSON.stringify(result, null, 1));
  console.log(
    "schedule batch steps | parlab s/img  speed-up  own share | torch s/img (threads)  model-only | parlab faster by (all / model-only)",
  );
  for (const r of rows) {
    console.log(
      `${r.schedule.padEnd(8)} ${String(r.batch).padStart(5)} ${String(r.steps).padStart(5)} | ${
        r.parlabSecondsPerImage.toFixed(4)
      }  ${r.parlabSpeedupVsFirst.toFixed(2)}x  ${(r.parlabSamplerShare * 100).toFixed(1)}% | ${
        r.torchSecondsPerImage.toFixed(4)
      } (${r.torchThreads})  ${r.torchModelSecondsPerImage.toFixed(4)} | ${
        r.vsTorch.toFixed(2)
      }x / ${r.vsTorchModelOnly.toFixed(2)}x`,
    );
  }
  console.log(`wrote ${f.out}`);
}

if (import.meta.main) await runMain("vs_torch", main);
