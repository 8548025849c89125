/**
 * The in-graph sampling head against the JavaScript draw: seconds per image, seconds inside the
 * runtime, and the sampler's own seconds (the rest, mostly the draw), alternating the two per
 * round and keeping the best round of each. The model must have the head (manifest
 * `samplingHead`; `python -m python.export --sampling-head`, or python/sampling_head.py's
 * `add_sampling_head_file` on a copy of an exported graph).
 *
 *     deno run -A bench/sampling_head.ts --model M.json [--batch 8] [--repeats 3] [--backend cpu]
 *       [--top-k K] [--top-p P]
 * @module
 */
import {
  loadModel,
  numberFlag,
  parseFlags,
  runMain,
  sample,
  scheduleFromJSON,
  UsageError,
  z,
} from "../main/deps.ts";

const Flags = z.object({
  model: z.string({ message: "give a manifest whose model has the sampling head" }),
  batch: numberFlag().pipe(z.number().int().positive()).default(8),
  repeats: numberFlag().pipe(z.number().int().positive()).default(3),
  backend: z.enum(["cpu", "webgpu"]).default("cpu"),
  topK: numberFlag().pipe(z.number().int().min(0)).optional(),
  topP: numberFlag().pipe(z.number().gt(0).max(1)).optional(),
});

async function main(): Promise<void> {
  const args = parseFlags(Deno.args, Flags);
  const model = await loadModel(args.model, { backend: args.backend });
  if (!model.manifest.samplingHead) {
    throw new UsageError(
      `--model: ${args.model} has no sampling head. Fix: export it with --sampling-head`,
    );
  }
  const schedule = scheduleFromJSON(model.manifest.schedule);
  const classes = Array.from({ length: args.batch }, (_, i) => i % model.manifest.numClasses);
  const best: Record<string, { s: number; model: number; own: number }> = {};
  for (let r = 0; r < args.repeats; r++) {
    for (const onDevice of [false, true]) {
      const out = await sample(model, {
        schedule,
        classes,
        seed: r,
        drawOnDevice: onDevice,
        topK: args.topK,
        topP: args.topP,
        onWarning: () => {},
      });
      const key = onDevice ? "in-graph draw" : "JavaScript draw";
      const row = {
        s: out.seconds / args.batch,
        model: out.modelSeconds / args.batch,
        own: (out.seconds - out.modelSeconds) / args.batch,
      };
      if (!best[key] || row.s < best[key].s) best[key] = row;
    }
  }
  console.log(JSON.stringify({
    model: model.manifest.name,
    backend: model.backend,
    batch: args.batch,
    cfgScale: model.manifest.sampling.cfgScale,
    topK: args.topK ?? model.manifest.sampling.topK,
    topP: args.topP ?? model.manifest.sampling.topP,
    steps: schedule.steps.length,
    perImage: best,
  }));
  await model.dispose();
}

await runMain("sampling_head", main);
