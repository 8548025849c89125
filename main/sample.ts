/**
 * `deno task sample`: the sampler on the command line.
 *
 *   deno task sample --model fixtures/models/tiny-par4.json --schedule par4 --count 4 --cfg 2
 *
 * Writes `tokens.npy` (uint16 [N, H, W]), `labels.npy`, `samples.png` (one row per class) and
 * `run.json` (settings, timings, per-step trace) into `--out`.
 *
 * A video model (its manifest's grid.frames above 1) writes `tokens.npy` as [N, F, H, W],
 * `samples.png` with one clip's frames a row, and `strips.png` (the same clips, each row labelled
 * with its index and class); `--pngs` adds an animated `images/<index>_<class>.webp` per clip
 * (`--gif`: a `.gif` too) beside its frame strip `.png`, played at `--fps` (default 4).
 *
 * Resumable: every finished batch is saved at once under `--out/parts/`; rerunning the same
 * command after an interruption (Ctrl-C, a crash) keeps those images and samples the rest, with
 * the same tokens an uninterrupted run gives. A rerun with other settings into the same `--out`
 * is refused (`--fresh` discards the parts). The parts are removed once the run is complete.
 * @module
 */
import {
  type AnimationFormat,
  type ARModel,
  BACKEND_CHOICES,
  BackendSchema,
  cellCount,
  clipStrips,
  effectiveSettings,
  encodeAnimation,
  encodeNpy,
  estimateModelMemory,
  flagError,
  formatBytes,
  type ImageBatch,
  labelArray,
  listFlag,
  loadManifest,
  loadModel,
  lockFolder,
  mosaicImage,
  numberFlag,
  parseFlags,
  progress,
  resizeImages,
  resolveShard,
  ResumeStore,
  rgbToPng,
  runMain,
  sampleMany,
  type SamplingSettings,
  type Schedule,
  scheduleByName,
  scheduleFromJSON,
  scheduleToJSON,
  sha256Hex,
  type Shard,
  shardFolder,
  shardRange,
  type Tokenizer,
  UsageError,
  writeFileAtomic,
  z,
} from "./deps.ts";
import { programTokenizer } from "./_tokenizer.ts";

const USAGE =
  "Usage: deno task sample --model M.json [--schedule par4|file.json] [--classes 0,3|all] " +
  "[--count N] [--cfg S] [--cfg-interval K] [--cfg-interval-rule steps|official] [--temperature T] [--top-k K] [--top-p P] [--seed N] " +
  `[--batch B] [--threads N] [--backend ${BACKEND_CHOICES}] [--draw auto|js|device] [--codebook C.npy.gz] [--entropy] ` +
  "[--out DIR] [--fresh] [--shard i/N|auto/N] [--pngs] [--gif] [--fps F] [--image-size-eval 256] " +
  "[--allow-outside]";

const Flags = z.object({
  model: z.string({ error: "is required (the model manifest .json or its .onnx)" }).min(1),
  schedule: z.string().optional(),
  classes: z.string().default("all"),
  count: numberFlag().pipe(z.number().int().positive()).default(1),
  cfg: numberFlag().pipe(z.number().min(0)).optional(),
  cfgInterval: numberFlag().pipe(z.number().int().min(0)).optional(),
  cfgIntervalRule: z.enum(["steps", "official"]).optional(),
  temperature: numberFlag().pipe(z.number().positive()).optional(),
  topK: numberFlag().pipe(z.number().int().min(0)).optional(),
  topP: numberFlag().pipe(z.number().gt(0).max(1)).optional(),
  seed: numberFlag().pipe(z.number().int()).default(0),
  batch: numberFlag().pipe(z.number().int().positive()).default(8),
  threads: numberFlag().pipe(z.number().int().positive()).optional(),
  backend: BackendSchema.default("cpu"),
  /** auto: the model's sampling head where it has one; js: the JavaScript (reference) draw. */
  draw: z.enum(["auto", "js", "device"]).default("auto"),
  codebook: z.string().optional(),
  entropy: z.boolean().default(false),
  pngs: z.boolean().default(false),
  gif: z.boolean().default(false),
  fps: numberFlag().pipe(z.number().gt(0).max(50)).optional(),
  allowOutside: z.boolean().default(false),
  imageSizeEval: numberFlag().pipe(z.number().int().min(8).max(4096)).optional(),
  fresh: z.boolean().default(false),
  shard: z.string().optional(),
  out: z.string().min(1, "is empty (an unset shell variable?)").default("out/sample"),
});

/** The most images one `deno task sample` run takes (more: several runs or shards). */
const MAX_IMAGES = 1_000_000;

/**
 * The output folder must be a folder parlab may write into: not empty, not the file system root
 * or the home folder, not an existing file.
 */
async function checkOutFolder(out: string): Promise<void> {
  const resolved = await Deno.realPath(out).catch(() => null);
  const home = Deno.env.get("HOME");
  const homeReal = home ? await Deno.realPath(home).catch(() => home) : null;
  if (out.trim() === "" || resolved === "/" || /^\/+$/.test(out) || resolved === homeReal) {
    throw new UsageError(
      `--out: "${out}" is ${resolved === homeReal ? "your home folder" : "the file system root"}` +
        "; parlab writes its run files there. Fix: pass a folder of its own, e.g. --out out/sample",
    );
  }
  const info = await Deno.stat(out).catch(() => null);
  if (info && !info.isDirectory) {
    throw new UsageError(`--out: ${out} is an existing file. Fix: pass a folder`);
  }
}

async function readSchedule(
  spec: string | undefined,
  fallback: Schedule | null | undefined,
  grid: Schedule["grid"],
) {
  if (!spec) {
    if (!fallback) {
      throw new UsageError(
        "--schedule: the model names no trained schedule. Fix: pass e.g. --schedule par4",
      );
    }
    return fallback;
  }
  if (spec.endsWith(".json")) {
    let text: string;
    try {
      text = await Deno.readTextFile(spec);
    } catch (err) {
      throw new UsageError(
        `--schedule: cannot read ${spec} (${(err as Error).message}). Fix: check the path`,
      );
    }
    return flagError("--schedule", () => scheduleFromJSON(text));
  }
  return flagError("--schedule", () => scheduleByName(grid, spec));
}

function parseClasses(spec: string, names: string[] | undefined, numClasses: number): number[] {
  if (spec === "all") return Array.from({ length: numClasses }, (_, i) => i);
  return listFlag("classes", spec).map((t) => {
    const byName = names?.indexOf(t) ?? -1;
    if (byName >= 0) return byName;
    const n = /^\d+$/.test(t) ? Number(t) : NaN;
    if (!Number.isInteger(n) || n < 0 || n >= numClasses) {
      throw new UsageError(
        `--classes: "${t}" is neither a class index 0..${
          numClasses - 1
        } nor a class name. Fix: e.g. --classes 0,2 or --classes all`,
      );
    }
    return n;
  });
}

/**
 * A clip schedule on an image model, or an image schedule on a video model, is refused before
 * anything loads further, naming both frame counts; so are the clip-only flags on an image model.
 */
function checkFrames(
  f: z.infer<typeof Flags>,
  schedule: Schedule,
  m: ARModel["manifest"],
): void {
  const want = m.grid.frames;
  const got = schedule.grid.frames;
  if (got !== want) {
    const kind = (n: number) => n > 1 ? `clips of ${n} frames` : "still images";
    throw new UsageError(
      `--schedule: "${schedule.name}" orders ${kind(got)} (its grid.frames is ${got}) but model ` +
        `"${m.name}" generates ${kind(want)} (its manifest's grid.frames is ${want}). Fix: pass ` +
        `a schedule name (e.g. --schedule par4), which is built on the model's grid, or a ` +
        `schedule file whose grid.frames is ${want}`,
    );
  }
  if (want === 1 && (f.gif || f.fps !== undefined)) {
    throw new UsageError(
      `--${f.gif ? "gif" : "fps"}: model "${m.name}" generates still images (its manifest's ` +
        "grid.frames is 1), which have no animation. Fix: leave the flag out, or pass a video model",
    );
  }
}

/** What decides the tokens of a run: a resumed run must match it field for field. */
interface RunKey extends SamplingSettings {
  model: string;
  sha256: string;
  schedule: string;
  classes: number[];
  /** Where the tokens are drawn: a resumed run must not mix the two (float32 vs float64 draw). */
  draw: "js" | "device";
}

async function main(): Promise<void> {
  const f = parseFlags(
    Deno.args,
    Flags,
    ["entropy", "fresh", "pngs", "gif", "allowOutside"],
    USAGE,
  );
  if (f.gif && !f.pngs) {
    throw new UsageError("--gif: writes a GIF beside each clip of --pngs. Fix: add --pngs");
  }
  await announceMemory(f);
  const model = await flagError(
    "--model",
    () =>
      loadModel(f.model, {
        backend: f.backend,
        threads: f.threads,
        // A model you trained yourself names its codebook beside its data folder.
        allowOutside: f.allowOutside,
      }),
  );
  const m = model.manifest;
  const schedule = await readSchedule(
    f.schedule,
    m.schedule as Schedule | null | undefined,
    m.grid,
  );
  checkFrames(f, schedule, m);
  const picked = parseClasses(f.classes, m.classNames, m.numClasses);
  const total = picked.length * f.count;
  const shard = f.shard ? resolveShard(f.shard) : null;
  const range = shard ? shardRange(total, shard) : { start: 0, end: total };
  const mine = range.end - range.start;
  if (mine > MAX_IMAGES) {
    throw new UsageError(
      `--count: ${f.count} x ${picked.length} classes = ${total.toLocaleString("en-US")} images` +
        `${shard ? `, ${mine.toLocaleString("en-US")} in this shard` : ""}, over the ` +
        `${MAX_IMAGES.toLocaleString("en-US")} one run takes (their tokens alone would need ` +
        `${formatBytes(mine * cellCount(schedule.grid) * 12)}). Fix: lower --count, or split ` +
        "the run with --shard i/N",
    );
  }
  const classes = picked.flatMap((c) => new Array(f.count).fill(c)).slice(range.start, range.end);
  const tokenizer = await programTokenizer(model, f.codebook);
  await checkOutFolder(f.out);
  const out = shard ? `${f.out}/${shardFolder(shard)}` : f.out;
  const unlock = await lockFolder(out, "--out", (note) => console.log(note));
  try {
    await sampleInto({ ...f, out }, model, schedule, classes, tokenizer, {
      shard,
      first: range.start,
      total,
    });
  } finally {
    await unlock();
  }
}

/** Pictures in the mosaic at most (the rest are in --pngs). */
const MOSAIC_LIMIT = 144;

/** Side in pixels animations are upscaled to at least (a 24-pixel frame plays at 4x). */
const ANIMATION_SIDE = 96;

/**
 * Decode the sampled grids (in chunks, so a large run never holds every picture at once),
 * resize them for evaluation when asked (`--image-size-eval`, bicubic, as the paper evaluates
 * its 384-pixel pictures at 256), write each as a PNG (`--pngs`: images/<index>_<class>.png),
 * and the first pictures as `samples.png`. Clips also get an animation each (`--pngs`) and
 * `strips.png`.
 */
async function writePictures(
  f: z.infer<typeof Flags>,
  grids: { n: number; frames: number; height: number; width: number; tokens: Int32Array },
  classes: number[],
  tokenizer: Tokenizer,
  classNames: readonly string[] | undefined,
): Promise<void> {
  const video = grids.frames > 1;
  const formats: AnimationFormat[] = video && f.pngs ? (f.gif ? ["webp", "gif"] : ["webp"]) : [];
  const cells = grids.frames * grids.height * grids.width;
  const chunk = 16;
  const shown: ImageBatch[] = [];
  if (f.pngs) await Deno.mkdir(`${f.out}/images`, { recursive: true });
  for (let start = 0; start < grids.n; start += chunk) {
    const n = Math.min(chunk, grids.n - start);
    let pictures = await tokenizer.decode({
      ...grids,
      n,
      tokens: grids.tokens.subarray(start * cells, (start + n) * cells),
    });
    if (f.imageSizeEval) pictures = await resizeImages(pictures, f.imageSizeEval, f.imageSizeEval);
    if (f.pngs) {
      const per = (pictures.frames ?? 1) * pictures.height * pictures.width * 3;
      for (let i = 0; i < n; i++) {
        const one = { ...pictures, n: 1, data: pictures.data.subarray(i * per, (i + 1) * per) };
        const name = `${String(start + i).padStart(6, "0")}_${classes[start + i]}.png`;
        await writeFileAtomic(
          `${f.out}/images/${name}`,
          await rgbToPng(mosaicImage(one, {
            scale: 1,
            gap: 0,
          })),
        );
        const scale = Math.max(1, Math.floor(ANIMATION_SIDE / one.width));
        for (const format of formats) {
          await writeFileAtomic(
            `${f.out}/images/${name.replace(/\.png$/, `.${format}`)}`,
            await encodeAnimation(one, { format, fps: f.fps, scale }),
          );
        }
      }
    }
    if (start < MOSAIC_LIMIT) shown.push(pictures);
  }
  const per = (shown[0].frames ?? 1) * shown[0].height * shown[0].width * 3;
  const limit = Math.min(grids.n, MOSAIC_LIMIT);
  const data = new Uint8Array(limit * per);
  let at = 0;
  for (const b of shown) {
    const take = Math.min(b.data.length, data.length - at);
    data.set(b.data.subarray(0, take), at);
    at += take;
  }
  const mosaic = { ...shown[0], n: limit, data };
  const first = shown[0];
  const scale = first.width >= 128 ? 1 : 2;
  await writeFileAtomic(
    `${f.out}/samples.png`,
    await rgbToPng(mosaicImage(mosaic, { cols: Math.min(f.count, 16), scale })),
  );
  if (video) {
    const labels = classes.slice(0, limit).map((c, i) =>
      `${String(i).padStart(6, "0")} ${classNames?.[c] ?? c}`
    );
    await writeFileAtomic(`${f.out}/strips.png`, await clipStrips(mosaic, { scale, labels }));
  }
}

/**
 * Say what the model will take before loading it (a 1.4 GB graph should not be discovered by
 * running out of memory). Quiet when the manifest cannot be read: loading names that problem.
 */
async function announceMemory(f: z.infer<typeof Flags>): Promise<void> {
  try {
    const { manifest, url } = await loadManifest(f.model);
    if (url.protocol !== "file:") return;
    const graph = await Deno.stat(new URL(manifest.onnx, url));
    let bytes = graph.size;
    const data = await Deno.stat(new URL(`${manifest.onnx}.data`, url)).catch(() => null);
    if (data) bytes += data.size;
    const guided = (f.cfg ?? manifest.sampling.cfgScale) > 1;
    const rows = f.batch * (guided ? 2 : 1);
    const est = estimateModelMemory(manifest, bytes, rows);
    if (est.total > 1e9) {
      console.log(
        `model ${manifest.name}: ${formatBytes(bytes)} of graph; sampling ${rows} rows at a ` +
          `time needs about ${formatBytes(est.total)} of memory`,
      );
    }
  } catch {
    // the load below reports it
  }
}

/** Which part of a sharded run this process samples (shard null: the whole run). */
interface RunPart {
  shard: Shard | null;
  /** Index of the first image in the whole run. */
  first: number;
  /** Images in the whole run. */
  total: number;
}

/** Sample into `f.out` (locked by the caller), resuming saved batches. */
async function sampleInto(
  f: z.infer<typeof Flags>,
  model: ARModel,
  schedule: Schedule,
  classes: number[],
  tokenizer: Tokenizer,
  part: RunPart,
): Promise<void> {
  const m = model.manifest;
  const { frames, height, width } = schedule.grid;
  const parts = new ResumeStore(`${f.out}/parts`, cellCount(schedule.grid));
  // The effective settings: a flag left out means the manifest's default.
  const settings = flagError("--cfg", () =>
    effectiveSettings(m, {
      cfgScale: f.cfg,
      cfgInterval: f.cfgInterval,
      cfgIntervalRule: f.cfgIntervalRule,
      temperature: f.temperature,
      topK: f.topK,
      topP: f.topP,
      seed: f.seed,
    }));
  if (f.draw === "device" && !m.samplingHead) {
    throw new UsageError(
      `--draw device: model "${m.name}" has no sampling head. Fix: --draw auto or js, or ` +
        "re-export the model with python -m python.export --sampling-head",
    );
  }
  const onDevice = f.draw !== "js" && m.samplingHead && !f.entropy;
  if (f.draw === "device" && !onDevice) {
    throw new UsageError("--draw device: --entropy needs the logits in JavaScript. Fix: drop one");
  }
  const key: RunKey = {
    model: m.name,
    sha256: m.sha256,
    schedule: scheduleToJSON(schedule),
    classes,
    ...settings,
    draw: onDevice ? "device" : "js",
  };
  const resume = await parts.load(
    { ...key, first: part.first, total: part.total },
    classes.length,
    {
      onMismatch: "refuse",
      fresh: f.fresh,
    },
  );
  if (resume) {
    console.log(
      `resuming: ${resume.length / parts.cells} of ${classes.length} images were sampled ` +
        `before (${parts.dir})`,
    );
  }
  const bar = progress(`sampling ${schedule.name}`, classes.length);
  const run = await sampleMany(model, {
    resume,
    onBatch: (start, tokens) => parts.save(start, tokens),
    schedule,
    classes,
    ...settings,
    batchSize: f.batch,
    firstImage: part.first,
    recordEntropy: f.entropy,
    drawOnDevice: onDevice,
    onProgress: (done) => bar.update(done),
    onWarning: (w) => console.warn(`warning: ${w}`),
  });
  bar.stop();
  const n = classes.length;
  // Video grids keep their frame axis: [n, F, H, W]; images stay [n, H, W].
  const shape = frames > 1 ? [n, frames, height, width] : [n, height, width];
  await writeFileAtomic(
    `${f.out}/tokens.npy`,
    encodeNpy({ dtype: "uint16", shape, data: Uint16Array.from(run.tokens) }, false),
  );
  // Labels wide enough for the model's classes (ImageNet models have 1000).
  await writeFileAtomic(
    `${f.out}/labels.npy`,
    encodeNpy({ ...labelArray(classes, m.numClasses), shape: [n] }, false),
  );
  await writePictures(
    f,
    { n, frames, height, width, tokens: run.tokens },
    classes,
    tokenizer,
    m.classNames,
  );
  const steps = schedule.steps.length;
  const summary = {
    format: "parlab-run/1",
    // What decides the tokens, for `deno task merge` to refuse shards of different runs.
    run: {
      model: m.name,
      sha256: m.sha256,
      schedule: await sha256Hex(new TextEncoder().encode(key.schedule)),
      ...settings,
      images: part.total,
      grid: schedule.grid,
    },
    shard: part.shard ? { ...part.shard, first: part.first, images: classes.length } : null,
    model: m.name,
    backend: model.backend,
    schedule: schedule.name,
    steps,
    images: n,
    resumedImages: run.resumed,
    classes,
    settings: { ...settings, batch: f.batch },
    seconds: run.seconds,
    secondsPerImage: n > run.resumed ? run.seconds / (n - run.resumed) : null,
    modelSeconds: run.modelSeconds,
    trace: run.batches.map((b) =>
      b.trace.map((t) => ({
        cells: t.cells.length,
        wallMs: +(t.wallSeconds * 1000).toFixed(3),
        modelMs: +(t.modelSeconds * 1000).toFixed(3),
        ...(t.entropyBits
          ? {
            meanEntropyBits: +(t.entropyBits.reduce((a, x) => a + x, 0) / t.entropyBits.length)
              .toFixed(4),
          }
          : {}),
      }))
    ),
  };
  await writeFileAtomic(`${f.out}/run.json`, JSON.stringify(summary, null, 1));
  await parts.remove();
  const sampled = n - run.resumed;
  console.log(
    `${n} ${frames > 1 ? "clips" : "images"} (${sampled} sampled now${
      run.resumed ? `, ${run.resumed} resumed` : ""
    }), ` +
      `${schedule.name} (${steps} steps) on ${model.backend}: ${run.seconds.toFixed(2)} s` +
      (sampled > 0
        ? `, ${(run.seconds / sampled).toFixed(3)} s/image, model ${
          ((run.modelSeconds / run.seconds) * 100).toFixed(1)
        }% of wall`
        : ""),
  );
  console.log(
    `wrote ${f.out}/samples.png, ${
      frames > 1 ? "strips.png, " : ""
    }tokens.npy, labels.npy, run.json`,
  );
  await model.dispose();
}

if (import.meta.main) await runMain("sample", main);
