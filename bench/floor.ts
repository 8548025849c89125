/**
 * The per-step floor of a model on this machine, and how far each schedule's steps are above it.
 *
 *   /usr/bin/python3 -m python.bench_models --out out/bench-models      # w256 and PAR-L shapes
 *   deno task bench:floor [--models out/bench-models/w256-fused.json,...] [--batches 1,8]
 *     [--schedules raster,par4,par16] [--max-steps N] [--repeats 3] [--threads N] [--profile]
 *     [--out bench/results/floor.json]
 *
 * Measured first, with onnxruntime itself (python/bench_models.py's probe graphs, operands fed
 * from JavaScript, so nothing is folded or cached by the session):
 * - read bandwidth: the better of a GEMV `[2, K] x [K, N]` (a batch-1 guided step's two rows,
 *   probe-matmul.onnx) and a row-parallel ReduceSum (probe-read.onnx) over a matrix the size of
 *   the model's matmul weights, and over 256 MiB (main memory), best of 20;
 * - matmul throughput: `[512, 1024] x [1024, 1024]`, best of 10.
 * Then, per step, from the manifest's geometry: the bytes it must read (every matmul weight once,
 * plus the keys and values of the P cached slots of every row and layer) and the FLOPs it must
 * do (2 per weight per slot and row, plus attention's 4 x heads x headDim per slot pair); the
 * floor is max(bytes / bandwidth at the model's size, FLOPs / matmul throughput). Each schedule
 * runs its first `--max-steps` steps (default all) with `batch` images and guidance on (2 x batch
 * rows), timing `model.step` (feeds, the runtime and output handling; not the draw, which the
 * sampler bench and `--profile` time), best of `--repeats` rounds, round-robin over schedules.
 * Prints measured ms/step, floor ms/step and their ratio, and writes the JSON atomically.
 *
 * `--profile` adds where one batch-1 run of each schedule spends a step: onnxruntime's per-operator
 * profile (grouped by operator), the step's wall time outside the runtime's `model_run` (feeds in,
 * outputs out, cache bookkeeping), building the inputs, and the JavaScript draw of the step's
 * tokens (TokenDrawer, the reference).
 * @module
 */
import {
  buildStepInputs,
  createNodeSession,
  loadOnnxModel,
  makeGrid,
  numberFlag,
  parseFlags,
  runMain,
  scheduleByName,
  stepSlots,
  TokenDrawer,
  UsageError,
  writeFileAtomic,
  z,
} from "../main/deps.ts";
import type { ARModel, ModelManifest } from "../main/deps.ts";

const Flags = z.object({
  models: z.string().default("out/bench-models/w256-fused.json,out/bench-models/par-l-fused.json"),
  probe: z.string().default("out/bench-models/probe-matmul.onnx"),
  schedules: z.string().default("raster,par4,par16"),
  batches: z.string().default("1,8"),
  "max-steps": numberFlag().pipe(z.number().int().positive()).optional(),
  repeats: numberFlag().pipe(z.number().int().positive()).default(3),
  threads: numberFlag().pipe(z.number().int().positive()).optional(),
  profile: z.boolean().default(false),
  out: z.string().default("bench/results/floor.json"),
});

/** Bytes and FLOPs one step must cost, from the manifest. */
export interface StepCost {
  /** Matmul weights read once per step. */
  weightBytes: number;
  /** Keys and values read by attention. */
  cacheBytes: number;
  /** Multiply-adds x 2. */
  flops: number;
}

/** Parameters of the matmuls a step multiplies by (everything but the embedding and RoPE tables). */
export function matmulParameters(m: ModelManifest): number {
  const cfg = (m.provenance?.modelConfig ?? {}) as Record<string, number | null>;
  const dim = m.dim;
  let hidden = cfg.ffn_hidden ?? 0;
  if (!hidden) {
    // LlamaGen's SwiGLU width: int(2 * 4 * dim / 3), scaled, rounded up to multiple_of.
    const multiple = cfg.multiple_of ?? 256;
    let h = Math.floor((2 * 4 * dim) / 3);
    if (cfg.ffn_dim_multiplier) h = Math.floor(cfg.ffn_dim_multiplier * h);
    hidden = Math.ceil(h / multiple) * multiple;
  }
  const qkv = dim * (m.heads + 2 * m.kvHeads) * m.headDim;
  const perLayer = qkv + dim * dim + 3 * dim * hidden;
  return m.layers * perLayer + dim * m.vocabSize;
}

/** What a step of `rows` rows, `T` new slots after `P` cached ones, must read and compute. */
export function stepCost(m: ModelManifest, rows: number, T: number, P: number): StepCost {
  const params = matmulParameters(m);
  const q = m.quantization;
  const weightBytesPer = q ? q.bits / 8 + 4 / q.blockSize : m.compute === "float16" ? 2 : 4;
  const cacheBytesPer = m.compute === "float16" ? 2 : 4;
  const cacheBytes = 2 * m.layers * rows * m.kvHeads * P * m.headDim * cacheBytesPer;
  const attention = 4 * rows * T * (P + T) * m.heads * m.headDim * m.layers;
  return {
    weightBytes: params * weightBytesPer,
    cacheBytes,
    flops: 2 * rows * T * params + attention,
  };
}

interface Machine {
  /** Bytes per second reading a model-sized matrix, and a 256 MiB one. */
  bandwidthModel: number;
  bandwidthMemory: number;
  /** FLOPs per second of a large float32 matmul. */
  matmulFlops: number;
}

async function measureMachine(
  probe: string,
  weightBytes: number,
  threads?: number,
): Promise<Machine> {
  const open = async (file: string) => {
    const bytes = await Deno.readFile(file).catch(() => {
      throw new UsageError(
        `--probe: cannot read ${file}. Fix: run /usr/bin/python3 -m python.bench_models first`,
      );
    });
    return await createNodeSession(bytes, file, { threads });
  };
  const matmul = await open(probe);
  const read = await open(probe.replace(/[^/]*$/, "probe-read.onnx"));
  const ort = matmul.ort;
  const best = async (
    session: typeof matmul.session,
    feeds: Record<string, InstanceType<typeof ort.Tensor>>,
    runs: number,
  ) => {
    let t = Infinity;
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      await session.run(feeds);
      t = Math.min(t, (performance.now() - t0) / 1000);
    }
    return t;
  };
  // Read bandwidth: the better of a batch-1 guided GEMV ([2, K] x [K, N]) and a row-parallel sum
  // over the same matrix (onnxruntime's GEMV can leave a core idle).
  const bandwidth = async (size: number) => {
    const k = 1024;
    const n = Math.max(64, Math.round(size / 4 / k));
    const b = new ort.Tensor("float32", new Float32Array(k * n).fill(0.5), [k, n]);
    const a = new ort.Tensor("float32", new Float32Array(2 * k).fill(1), [2, k]);
    const t = Math.min(
      await best(matmul.session, { a, b }, 20),
      await best(read.session, { b }, 20),
    );
    return (k * n * 4) / t;
  };
  const bandwidthModel = await bandwidth(weightBytes);
  const bandwidthMemory = await bandwidth(256 * 2 ** 20);
  const a = new ort.Tensor("float32", new Float32Array(512 * 1024).fill(1), [512, 1024]);
  const b = new ort.Tensor("float32", new Float32Array(1024 * 1024).fill(0.5), [1024, 1024]);
  const t = await best(matmul.session, { a, b }, 10);
  await matmul.session.release();
  await read.session.release();
  return { bandwidthModel, bandwidthMemory, matmulFlops: (2 * 512 * 1024 * 1024) / t };
}

interface Row {
  model: string;
  schedule: string;
  batch: number;
  steps: number;
  msPerStep: number;
  floorMsPerStep: number;
  ratio: number;
  bound: "bandwidth" | "compute";
}

/**
 * A guided run of `batch` images (2 x batch rows) of a schedule, as `sample()` feeds it: a cache
 * reserved for the schedule's slots, and each step's inputs (token ids all 0: timing only).
 */
function guidedRun(model: ARModel, schedule: ReturnType<typeof scheduleByName>, batch: number) {
  const m = model.manifest;
  const cells = m.grid.height * m.grid.width;
  const classes = Array.from({ length: batch }, (_, i) => i % m.numClasses);
  const rows = [...classes, ...classes.map(() => null)];
  const imageOfRow = rows.map((_, r) => r % batch);
  const tokens = new Int32Array(batch * cells);
  const slots = stepSlots(schedule);
  const cache = model.newCache(rows.length, slots.reduce((n, x) => n + x.length, 0));
  const inputsAt = (s: number) =>
    buildStepInputs(
      m,
      slots[s],
      schedule.steps[s].attention,
      rows,
      tokens,
      cells,
      imageOfRow,
      cache.length,
    );
  return { cache, tokens, slots, inputsAt };
}

/** One timed pass over a schedule's first steps; returns per-step wall seconds of model.step. */
async function timeSteps(
  model: ARModel,
  schedule: ReturnType<typeof scheduleByName>,
  batch: number,
  steps: number,
): Promise<number[]> {
  const { cache, inputsAt } = guidedRun(model, schedule, batch);
  const out: number[] = [];
  for (let s = 0; s < steps; s++) {
    const inputs = inputsAt(s);
    const t0 = performance.now();
    await model.step(cache, inputs);
    out.push((performance.now() - t0) / 1000);
  }
  return out;
}

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, Flags, ["profile"]);
  const batches = f.batches.split(",").map(Number);
  const names = f.schedules.split(",");
  const rows: Row[] = [];
  const machines: Record<string, Machine> = {};
  const profiles: Record<string, unknown>[] = [];
  for (const path of f.models.split(",")) {
    const model = await loadOnnxModel(path, { threads: f.threads, skipHashCheck: true });
    const m = model.manifest;
    const grid = makeGrid(m.grid.height, m.grid.width);
    const schedules = names.map((n) => scheduleByName(grid, n));
    const weights = stepCost(m, 1, 1, 0).weightBytes;
    // The floor is the machine's: probed on every core, whatever --threads gives the model.
    const machine = await measureMachine(f.probe, weights, navigator.hardwareConcurrency);
    machines[m.name] = machine;
    console.log(
      `${m.name}: ${(weights / 2 ** 20).toFixed(1)} MiB of matmul weights; read bandwidth ${
        (machine.bandwidthModel / 1e9).toFixed(1)
      } GB/s at that size, ${(machine.bandwidthMemory / 1e9).toFixed(1)} GB/s over 256 MiB; ` +
        `matmul ${(machine.matmulFlops / 1e9).toFixed(0)} GFLOP/s`,
    );
    for (const batch of batches) {
      const best = schedules.map(() => Infinity);
      const perStep: number[][] = schedules.map(() => []);
      for (let r = 0; r < f.repeats + 1; r++) {
        for (const [i, schedule] of schedules.entries()) {
          const steps = Math.min(f["max-steps"] ?? Infinity, schedule.steps.length);
          const times = await timeSteps(model, schedule, batch, steps);
          const total = times.reduce((a, b) => a + b, 0);
          if (r > 0 && total < best[i]) [best[i], perStep[i]] = [total, times]; // round 0: warm-up
        }
      }
      for (const [i, schedule] of schedules.entries()) {
        const steps = perStep[i].length;
        const slots = stepSlots(schedule);
        let floor = 0;
        let computeBound = 0;
        let P = 0;
        for (let s = 0; s < steps; s++) {
          const T = slots[s].length;
          const c = stepCost(m, 2 * batch, T, P);
          const memory = (c.weightBytes + c.cacheBytes) / machine.bandwidthModel;
          const compute = c.flops / machine.matmulFlops;
          floor += Math.max(memory, compute);
          if (compute > memory) computeBound++;
          P += T;
        }
        rows.push({
          model: m.name,
          schedule: names[i],
          batch,
          steps,
          msPerStep: (best[i] / steps) * 1000,
          floorMsPerStep: (floor / steps) * 1000,
          ratio: best[i] / floor,
          bound: computeBound > steps / 2 ? "compute" : "bandwidth",
        });
      }
    }
    await model.dispose();
    if (f.profile) {
      for (const [i, schedule] of schedules.entries()) {
        profiles.push({
          model: m.name,
          schedule: names[i],
          ...await profileRun(path, schedule, f.threads, f["max-steps"]),
        });
      }
    }
  }
  const result = {
    machine: `${Deno.build.os}-${Deno.build.arch}, ${navigator.hardwareConcurrency} cores`,
    backend: "onnxruntime-node cpu",
    threads: f.threads ?? "runtime default",
    date: new Date().toISOString().slice(0, 10),
    machines,
    rows,
    ...(f.profile ? { profiles } : {}),
  };
  await writeFileAtomic(f.out, JSON.stringify(result, null, 1));
  console.log("model           schedule  batch  steps  ms/step  floor ms/step  ratio  bound");
  for (const r of rows) {
    console.log(
      `${r.model.padEnd(15)} ${r.schedule.padEnd(8)}  ${String(r.batch).padStart(5)}  ${
        String(r.steps).padStart(5)
      }  ${r.msPerStep.toFixed(3).padStart(7)}  ${r.floorMsPerStep.toFixed(3).padStart(13)}  ${
        r.ratio.toFixed(2).padStart(5)
      }x ${r.bound}`,
    );
  }
  console.log(`wrote ${f.out}`);
}

/**
 * Where a batch-1 guided run's steps go: a warm-up run and a timed one on a session with
 * onnxruntime profiling on. The wall time splits into building the inputs, `model.step` (of
 * which the runtime's `model_run` is the graph itself; the rest is feeds in, outputs out and the
 * cache bookkeeping) and the JavaScript draw; the graph's time splits by operator type.
 */
async function profileRun(
  path: string,
  schedule: ReturnType<typeof scheduleByName>,
  threads?: number,
  maxSteps?: number,
): Promise<Record<string, number | Record<string, number>>> {
  const prefix = await Deno.makeTempFile({ prefix: "parlab-profile-" });
  const model = await loadOnnxModel(path, { threads, skipHashCheck: true, profilePrefix: prefix });
  const m = model.manifest;
  const drawer = new TokenDrawer(m.vocabSize);
  const sampling = { temperature: 1, topK: 0, topP: 1 };
  const steps = Math.min(maxSteps ?? Infinity, schedule.steps.length);
  const run = async () => {
    const { cache, tokens, slots, inputsAt } = guidedRun(model, schedule, 1);
    const t = { inputs: 0, step: 0, draw: 0 };
    for (let s = 0; s < steps; s++) {
      let t0 = performance.now();
      const inputs = inputsAt(s);
      t.inputs += performance.now() - t0;
      t0 = performance.now();
      const out = await model.step(cache, inputs);
      t.step += performance.now() - t0;
      t0 = performance.now();
      const T = slots[s].length;
      const V = m.vocabSize;
      for (let i = 0; i < schedule.steps[s].cells.length; i++) {
        const cond = out.logits.subarray(i * V, (i + 1) * V);
        const uncond = out.logits.subarray((T + i) * V, (T + i + 1) * V);
        tokens[schedule.steps[s].cells[i]] = drawer.draw(cond, uncond, 1.5, sampling, 0.5);
      }
      t.draw += performance.now() - t0;
    }
    return t;
  };
  await run(); // warm-up
  const t = await run();
  await model.dispose(); // writes the profile
  const dir = prefix.slice(0, prefix.lastIndexOf("/"));
  const base = prefix.slice(prefix.lastIndexOf("/") + 1);
  const file = [...Deno.readDirSync(dir)].find((e) => e.name.startsWith(`${base}_`));
  if (!file) throw new Error(`onnxruntime wrote no profile next to ${prefix}`);
  type Event = { cat?: string; name: string; dur: number; ts: number; args?: { op_name?: string } };
  const events = JSON.parse(await Deno.readTextFile(`${dir}/${file.name}`)) as Event[];
  await Deno.remove(`${dir}/${file.name}`);
  await Deno.remove(prefix);
  // The timed run's steps are the last `steps` model_run events; its kernels start after them.
  const runs = events.filter((e) => e.name === "model_run").sort((a, b) => a.ts - b.ts);
  const timed = runs.slice(runs.length - steps);
  const from = timed[0].ts;
  const operators: Record<string, number> = {};
  let kernels = 0;
  for (const e of events) {
    if (e.cat !== "Node" || !e.name.endsWith("_kernel_time") || e.ts < from) continue;
    const op = e.args?.op_name ?? "?";
    operators[op] = (operators[op] ?? 0) + e.dur / 1000 / steps;
    kernels += e.dur / 1000 / steps;
  }
  const graphMs = timed.reduce((a, e) => a + e.dur, 0) / 1000 / steps;
  const wall = t.inputs + t.step + t.draw;
  return {
    steps,
    msPerStep: wall / steps,
    inputsMs: t.inputs / steps,
    graphMs,
    kernelsMs: kernels,
    aroundGraphMs: t.step / steps - graphMs,
    drawMs: t.draw / steps,
    operatorsMs: operators,
  };
}

if (import.meta.main) await runMain("floor", main);
