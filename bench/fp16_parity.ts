/**
 * Half-precision parity: an fp16-compute step graph (`python -m python.export --graph fused
 * --compute float16`) against the fp32 graph of the same weights, measured two ways.
 *
 * - Logits: one guided decode of the fp32 model, with every step also fed, unchanged, to the
 *   fp16 model (its own KV cache, so its error compounds as it would in use, but the tokens are
 *   the fp32 model's). Reports the max and mean |logit difference|, the largest |logit| for
 *   scale, how often the two argmaxes agree, and the max and mean total-variation distance
 *   between the two softmax distributions (what sampling sees, before guidance).
 * - Tokens: whole images sampled by each model alone from the same seeds (same uniforms):
 *   the share of tokens that agree and the number of images that agree in every token. One
 *   flipped draw changes the context of every later step of that image, so this is the
 *   end-to-end number.
 *
 *   deno run -A --frozen bench/fp16_parity.ts [--fp32 fixtures/models/micro-par4-fused.json]
 *     [--fp16 fixtures/models/micro-par4-f16.json] [--backend webgpu] [--fp32-backend B]
 *     [--schedule NAME] [--classes 0,1,2,3] [--seeds 0,1,2,3] [--cfg S] [--out FILE.json]
 *
 * `--backend` runs the fp16 model (webgpu, or cpu/cuda: onnxruntime-node's CPU provider runs an
 * fp16 graph by casting around the operators it has no fp16 kernels for); `--fp32-backend` runs
 * the reference (default: the same, or cpu for a CPU-layout graph such as micro-par4-fused, whose
 * split attention returns no grown cache; the fp32 logits agree across backends to ~4e-6). `--schedule` defaults to the fp32 manifest's trained
 * schedule. The two manifests must describe the same model (geometry and grid).
 * @module
 */
import { makeGrid } from "../src/media/mod.ts";
import {
  type ARModel,
  type KVCache,
  loadManifest,
  loadModel,
  type StepInputs,
  type StepOutput,
} from "../src/model/mod.ts";
import { BackendSchema } from "../src/runtime/mod.ts";
import { sample } from "../src/sampler/mod.ts";
import { type Schedule, scheduleByName, scheduleFromJSON } from "../src/schedule/mod.ts";
import {
  listFlag,
  numberFlag,
  parseFlags,
  runMain,
  UsageError,
  writeFileAtomic,
} from "../src/util/mod.ts";
import { z } from "../src/deps/zod.ts";

/** Logit agreement of two models fed the same steps (see {@link LogitTee}). */
export interface LogitParity {
  /** Steps compared. */
  steps: number;
  /** Logit rows compared (batch rows x slots, summed over steps). */
  rows: number;
  /** Largest |fp16 - fp32| over every logit. */
  maxAbs: number;
  /** Mean |fp16 - fp32| over every logit. */
  meanAbs: number;
  /** Largest |fp32 logit|, for scale. */
  maxRef: number;
  /** Share of rows whose argmax token is the same. */
  argmaxAgreement: number;
  /** Largest total-variation distance between the two rows' softmax distributions. */
  maxTv: number;
  /** Mean total-variation distance. */
  meanTv: number;
}

/** A cache of the two models behind a {@link LogitTee}. */
class TeeCache implements KVCache {
  constructor(readonly ref: KVCache, readonly test: KVCache) {}
  get batch(): number {
    return this.ref.batch;
  }
  get length(): number {
    return this.ref.length;
  }
}

/**
 * An {@link ARModel} that runs every step on `ref` and on `test` with the same inputs, returns
 * `ref`'s logits (so the sampler follows the reference) and accumulates how far `test`'s logits
 * are from them ({@link LogitTee.parity}). Disposing it disposes neither model.
 */
export class LogitTee implements ARModel {
  #steps = 0;
  #rows = 0;
  #n = 0;
  #sumAbs = 0;
  #maxAbs = 0;
  #maxRef = 0;
  #argmaxSame = 0;
  #maxTv = 0;
  #sumTv = 0;

  /**
   * @param ref the reference model (fp32); its logits drive the sampler
   * @param test the model under test (fp16), fed the same steps
   */
  constructor(readonly ref: ARModel, readonly test: ARModel) {}
  get manifest(): ARModel["manifest"] {
    return this.ref.manifest;
  }
  get source(): URL {
    return this.ref.source;
  }
  get backend(): string {
    return `${this.ref.backend} vs ${this.test.backend}`;
  }
  get backendName(): ARModel["backendName"] {
    return this.test.backendName;
  }
  newCache(batch: number): KVCache {
    return new TeeCache(this.ref.newCache(batch), this.test.newCache(batch));
  }
  async step(cache: KVCache, inputs: StepInputs): Promise<StepOutput> {
    const c = cache as TeeCache;
    const a = await this.ref.step(c.ref, inputs);
    const b = await this.test.step(c.test, inputs);
    this.#compare(a.logits, b.logits);
    return a;
  }
  truncate(cache: KVCache, length: number): void {
    const c = cache as TeeCache;
    this.ref.truncate(c.ref, length);
    this.test.truncate(c.test, length);
  }
  dispose(): Promise<void> {
    return Promise.resolve();
  }

  #compare(a: Float32Array, b: Float32Array): void {
    const V = this.ref.manifest.vocabSize;
    this.#steps++;
    for (let base = 0; base < a.length; base += V) {
      let maxA = -Infinity, maxB = -Infinity, argA = 0, argB = 0;
      for (let v = 0; v < V; v++) {
        const x = a[base + v], y = b[base + v];
        const d = Math.abs(x - y);
        this.#sumAbs += d;
        if (d > this.#maxAbs) this.#maxAbs = d;
        if (Math.abs(x) > this.#maxRef) this.#maxRef = Math.abs(x);
        if (x > maxA) (maxA = x), (argA = v);
        if (y > maxB) (maxB = y), (argB = v);
      }
      let za = 0, zb = 0;
      for (let v = 0; v < V; v++) {
        za += Math.exp(a[base + v] - maxA);
        zb += Math.exp(b[base + v] - maxB);
      }
      let tv = 0;
      for (let v = 0; v < V; v++) {
        tv += Math.abs(Math.exp(a[base + v] - maxA) / za - Math.exp(b[base + v] - maxB) / zb);
      }
      tv /= 2;
      this.#sumTv += tv;
      if (tv > this.#maxTv) this.#maxTv = tv;
      if (argA === argB) this.#argmaxSame++;
      this.#rows++;
      this.#n += V;
    }
  }

  /** The agreement so far. */
  parity(): LogitParity {
    return {
      steps: this.#steps,
      rows: this.#rows,
      maxAbs: this.#maxAbs,
      meanAbs: this.#n ? this.#sumAbs / this.#n : 0,
      maxRef: this.#maxRef,
      argmaxAgreement: this.#rows ? this.#argmaxSame / this.#rows : 1,
      maxTv: this.#maxTv,
      meanTv: this.#rows ? this.#sumTv / this.#rows : 0,
    };
  }
}

/** Token agreement of images sampled by two models alone from the same seeds. */
export interface TokenAgreement {
  /** Images compared (classes x seeds). */
  images: number;
  /** Images whose every token agrees. */
  identicalImages: number;
  /** Share of tokens (over all images and cells) that agree. */
  tokenAgreement: number;
}

/** What {@link measureFp16Parity} compares and how. */
export interface ParityOptions {
  /** The schedule to decode with. */
  schedule: Schedule;
  /** One image per class, for every seed. */
  classes: readonly number[];
  /** Seeds of the token draws; the logit comparison uses the first. */
  seeds: readonly number[];
  /** Guidance scale (default: the manifest's). */
  cfgScale?: number;
}

/**
 * Logit parity along the reference's decode of the first seed, and token agreement of whole
 * images sampled by each model alone for every seed (see the module doc).
 */
export async function measureFp16Parity(
  ref: ARModel,
  test: ARModel,
  options: ParityOptions,
): Promise<{ logits: LogitParity; tokens: TokenAgreement }> {
  const common = {
    schedule: options.schedule,
    classes: options.classes,
    cfgScale: options.cfgScale,
    onWarning: () => {},
  };
  const tee = new LogitTee(ref, test);
  await sample(tee, { ...common, seed: options.seeds[0] });
  let same = 0, total = 0, identical = 0;
  const cells = options.schedule.grid.frames * options.schedule.grid.height *
    options.schedule.grid.width;
  for (const seed of options.seeds) {
    const a = await sample(ref, { ...common, seed });
    const b = await sample(test, { ...common, seed });
    for (let img = 0; img < options.classes.length; img++) {
      let all = true;
      for (let k = img * cells; k < (img + 1) * cells; k++) {
        if (a.tokens[k] === b.tokens[k]) same++;
        else all = false;
        total++;
      }
      if (all) identical++;
    }
  }
  return {
    logits: tee.parity(),
    tokens: {
      images: options.classes.length * options.seeds.length,
      identicalImages: identical,
      tokenAgreement: total ? same / total : 1,
    },
  };
}

const intList = (flag: string) =>
  z.string().transform((s, ctx) => {
    const items = listFlag(flag, s).map(Number);
    if (items.some((x) => !Number.isInteger(x) || x < 0)) {
      ctx.addIssue({ code: "custom", message: "must be non-negative integers, e.g. 0,1,2" });
    }
    return items;
  });

const Flags = z.object({
  fp32: z.string().default("fixtures/models/micro-par4-fused.json"),
  fp16: z.string().default("fixtures/models/micro-par4-f16.json"),
  backend: BackendSchema.default("webgpu"),
  fp32Backend: BackendSchema.optional(),
  schedule: z.string().optional(),
  classes: intList("classes").default([0, 1, 2, 3]),
  seeds: intList("seeds").default([0, 1, 2, 3]),
  cfg: numberFlag().pipe(z.number().min(0)).optional(),
  out: z.string().optional(),
});

const USAGE = "Usage: deno run -A bench/fp16_parity.ts [--fp32 M.json] [--fp16 M.json] " +
  "[--backend webgpu|cpu|cuda] [--fp32-backend B] [--schedule NAME] [--classes 0,1,2,3] " +
  "[--seeds 0,1,2,3] [--cfg S] [--out FILE.json]";

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, Flags, [], USAGE);
  // The fp32 reference computes the same on every backend (WebGPU against the CPU: under 4e-6),
  // and a CPU-layout graph (split attention, cache "new") runs on the CPU only.
  const refBackend = f.fp32Backend ??
    ((await loadManifest(f.fp32)).manifest.cache === "new" ? "cpu" : f.backend);
  const ref = await loadModel(f.fp32, { backend: refBackend });
  const test = await loadModel(f.fp16, { backend: f.backend });
  try {
    const a = ref.manifest, b = test.manifest;
    const keys = ["vocabSize", "numClasses", "layers", "dim", "heads", "kvHeads"] as const;
    const differ = keys.filter((k) => a[k] !== b[k]);
    if (differ.length) {
      throw new UsageError(
        `--fp16 ${f.fp16}: not the same model as --fp32 ${f.fp32} (${
          differ.map((k) => `${k} ${b[k]} vs ${a[k]}`).join(", ")
        }). Fix: export both from one checkpoint`,
      );
    }
    if (b.compute !== "float16") {
      console.warn(`fp16_parity: --fp16 ${f.fp16} computes in ${b.compute}, not float16`);
    }
    const grid = makeGrid(a.grid.height, a.grid.width, a.grid.frames);
    const schedule = f.schedule
      ? scheduleByName(grid, f.schedule)
      : a.schedule
      ? scheduleFromJSON(a.schedule)
      : scheduleByName(grid, "par4");
    const bad = f.classes.find((c) => c >= a.numClasses);
    if (bad !== undefined) {
      throw new UsageError(
        `--classes: class ${bad} is out of range; the model has ${a.numClasses}. Fix: pick ` +
          `classes below ${a.numClasses}`,
      );
    }
    const t0 = performance.now();
    const result = await measureFp16Parity(ref, test, {
      schedule,
      classes: f.classes,
      seeds: f.seeds,
      cfgScale: f.cfg,
    });
    const seconds = (performance.now() - t0) / 1000;
    const l = result.logits, t = result.tokens;
    console.log(`fp32: ${a.name} on ${ref.backend}`);
    console.log(`fp16: ${b.name} (compute ${b.compute}) on ${test.backend}`);
    console.log(
      `schedule ${schedule.name}, ${schedule.steps.length} steps; classes ${
        f.classes.join(",")
      }; ` +
        `seeds ${f.seeds.join(",")}; ${seconds.toFixed(1)} s`,
    );
    console.log(
      `logits (${l.steps} steps, ${l.rows} rows, fp32 tokens): max |diff| ${
        l.maxAbs.toExponential(2)
      }, mean |diff| ${l.meanAbs.toExponential(2)}, max |logit| ${l.maxRef.toFixed(2)}; ` +
        `argmax agreement ${(l.argmaxAgreement * 100).toFixed(2)}%; total variation max ${
          l.maxTv.toExponential(2)
        }, mean ${l.meanTv.toExponential(2)}`,
    );
    console.log(
      `tokens (each model alone, same seeds): ${(t.tokenAgreement * 100).toFixed(2)}% agree; ` +
        `${t.identicalImages} of ${t.images} images identical`,
    );
    if (f.out) {
      const record = {
        fp32: { manifest: f.fp32, backend: ref.backend },
        fp16: { manifest: f.fp16, backend: test.backend },
        schedule: schedule.name,
        classes: f.classes,
        seeds: f.seeds,
        cfgScale: f.cfg ?? null,
        seconds,
        ...result,
      };
      await writeFileAtomic(f.out, JSON.stringify(record, null, 1) + "\n");
      console.log(`wrote ${f.out}`);
    }
  } finally {
    await ref.dispose();
    await test.dispose();
  }
}

if (import.meta.main) await runMain("fp16_parity", main);
