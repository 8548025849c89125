/**
 * What CPU weight quantization costs: speed and sample quality of one configuration exported as
 * float32 and as 8-bit and 4-bit block-wise weights (`python -m python.export --quantize 8|4`),
 * scored with the experiments' metrics against the class-balanced training grids.
 *
 *   deno task bench:quantize --models A.json,B.json,C.json [--data fixtures/emoji16]
 *     [--per-class 32] [--seed 0] [--threads N] [--out bench/results/quantize_quality.json]
 *
 * Every model samples the same classes from the same uniforms (seeded, `sampleMany`, batch 8,
 * the manifest's guidance); the first model is the reference for token agreement. Prints
 * seconds per image, Fréchet distance, KID, class accuracy and the share of tokens equal to the
 * first model's; writes the JSON atomically.
 * @module
 */
import {
  evaluateSamples,
  loadEmojiClassifier,
  loadEmojiDataset,
  loadOnnxModel,
  loadPatchTokenizer,
  makeGrid,
  numberFlag,
  parseFlags,
  prepareReference,
  runMain,
  sampleMany,
  scheduleByName,
  UsageError,
  writeFileAtomic,
  z,
} from "../main/deps.ts";
import { balancedRows, gather } from "../analysis/experiments.ts";

const Flags = z.object({
  models: z.string().min(1),
  data: z.string().default("fixtures/emoji16"),
  perClass: numberFlag().pipe(z.number().int().positive()).default(32),
  seed: numberFlag().pipe(z.number().int()).default(0),
  threads: numberFlag().pipe(z.number().int().positive()).optional(),
  out: z.string().default("bench/results/quantize_quality.json"),
});

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, Flags);
  const paths = f.models.split(",");
  if (paths.length < 2) {
    throw new UsageError("--models: give at least two manifests (the first is the reference)");
  }
  const [train, tokenizer, classifier] = await Promise.all([
    loadEmojiDataset("train", f.data),
    loadPatchTokenizer(f.data),
    loadEmojiClassifier(),
  ]);
  const C = train.classNames.length;
  const rows = balancedRows(train.labels, C, f.perClass, f.seed);
  const real = gather(train, rows);
  const reference = await prepareReference(real, tokenizer, classifier);
  const classes = Array.from({ length: C * f.perClass }, (_, i) => Math.floor(i / f.perClass));
  const results = [];
  let first: Int32Array | null = null;
  for (const path of paths) {
    const model = await loadOnnxModel(path, { threads: f.threads });
    const m = model.manifest;
    if (m.grid.height !== train.height || m.grid.width !== train.width) {
      throw new UsageError(
        `--data: ${f.data} is ${train.height}x${train.width} but ${m.name} is ` +
          `${m.grid.height}x${m.grid.width}. Fix: pass the data the model was trained on`,
      );
    }
    const schedule = scheduleByName(makeGrid(m.grid.height, m.grid.width), m.schedule!.name);
    await sampleMany(model, { schedule, classes: classes.slice(0, 8), seed: f.seed }); // warm-up
    const out = await sampleMany(model, { schedule, classes, seed: f.seed, batchSize: 8 });
    await model.dispose();
    first ??= out.tokens;
    let same = 0;
    for (let i = 0; i < out.tokens.length; i++) if (out.tokens[i] === first[i]) same++;
    const metrics = await evaluateSamples({
      generated: {
        n: classes.length,
        height: m.grid.height,
        width: m.grid.width,
        tokens: out.tokens,
      },
      labels: classes,
      real: reference,
      tokenizer,
      classifier,
    });
    results.push({
      model: m.name,
      quantization: m.quantization ?? null,
      bytes: (await Deno.stat(new URL(m.onnx, model.source))).size,
      secondsPerImage: out.seconds / classes.length,
      frechet: metrics.frechet,
      kid: metrics.kid.mean,
      classAccuracy: metrics.classAccuracy,
      tokenAgreement: same / out.tokens.length,
    });
    console.log(
      `${m.name}: ${(out.seconds / classes.length).toFixed(4)} s/image, Fréchet ${
        metrics.frechet.toFixed(2)
      }, KID ${metrics.kid.mean.toFixed(4)}, class accuracy ${
        metrics.classAccuracy.toFixed(3)
      }, tokens equal to ${paths[0]}'s: ${(100 * same / out.tokens.length).toFixed(1)}%`,
    );
  }
  await writeFileAtomic(
    f.out,
    JSON.stringify(
      { date: new Date().toISOString().slice(0, 10), data: f.data, perClass: f.perClass, results },
      null,
      1,
    ),
  );
  console.log(`wrote ${f.out}`);
}

if (import.meta.main) await runMain("quantize_quality", main);
