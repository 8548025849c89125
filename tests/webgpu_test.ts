/**
 * WebGPU backend against the CPU backend on the tiny models: logits agree within 1e-4 (scaled by
 * the logit's size), the same uniforms give the same tokens through `sample()` with guidance on,
 * truncating the GPU-resident cache gives the logits of a cache that never held the dropped
 * slots, and `loadModel` dispatches and reports the adapter.
 *
 * CI runs this on Mesa's software Vulkan (apt: mesa-vulkan-drivers libvulkan1). Without any
 * WebGPU adapter the suite fails, unless PARLAB_ALLOW_NO_GPU=1, which skips it. Without the
 * committed tiny models (fixtures/models/tiny-*.json) it is skipped with a message. On an adapter
 * without shader-f16 (e.g. wgpu's GL backend: DENO_WEBGPU_BACKEND=gl) the fp16-stored models
 * cannot run; then the clear refusal is tested and the suite fails unless PARLAB_ALLOW_NO_GPU=1.
 *
 * The software adapter takes ~40-300 ms a step (CPU backend: ~2 ms), so par16 runs its whole
 * schedule (51 steps) and raster and par4 their first 40 steps, each through `sample()`.
 */
import { makeGrid } from "../src/media/mod.ts";
import {
  type ARModel,
  type KVCache,
  loadModel,
  type StepInputs,
  type StepOutput,
  WebGpuModel,
} from "../src/model/mod.ts";
import { resolveAutoBackend, webGpuAdapterInfo } from "../src/runtime/mod.ts";
import { sample } from "../src/sampler/mod.ts";
import { scheduleByName } from "../src/schedule/mod.ts";
import { ManifestError } from "../src/util/mod.ts";
import { assert, assertEquals } from "./assert.ts";

const modelsDir = Deno.env.get("PARLAB_TEST_MODELS") ??
  new URL("../fixtures/models/", import.meta.url).pathname;
const modelPath = (config: string) => `${modelsDir.replace(/\/$/, "")}/tiny-${config}.json`;

/** Logits agree when |a - b| <= TOL * max(1, |a|). Measured: ~2e-5 absolute on |logits| < 7. */
const TOL = 1e-4;

const haveModels = await Deno.stat(modelPath("par4")).then(() => true, () => false);
const adapter = await webGpuAdapterInfo();
const allowNoGpu = Deno.env.get("PARLAB_ALLOW_NO_GPU") === "1";

if (!haveModels) {
  console.warn(
    `webgpu_test: skipped: no tiny models at ${modelsDir} (they land with python/tiny.py's ` +
      "fixtures/models/tiny-*.json; or point PARLAB_TEST_MODELS at a folder holding them)",
  );
}
if (!adapter) {
  if (allowNoGpu) {
    console.warn("webgpu_test: skipped: no WebGPU adapter and PARLAB_ALLOW_NO_GPU=1");
  } else {
    Deno.test("WebGPU adapter is present", () => {
      throw new Error(
        "no WebGPU adapter (navigator.gpu.requestAdapter gave none). Fix: apt-get install " +
          "mesa-vulkan-drivers libvulkan1 (software Vulkan), or set PARLAB_ALLOW_NO_GPU=1 to skip",
      );
    });
  }
}
const fp16Models = haveModels &&
  JSON.parse(await Deno.readTextFile(modelPath("par4"))).dtype === "float16";
// fp16-stored models need shader-f16 on WebGPU (wgpu's GL backend, for one, lacks it).
const f16Blocked = Boolean(adapter && !adapter.shaderF16 && fp16Models);
if (f16Blocked) {
  console.warn(
    `webgpu_test: parity not run: adapter "${adapter!.name}" lacks shader-f16, which the ` +
      "fp16-stored tiny models need (the Vulkan adapter of mesa-vulkan-drivers offers it)",
  );
  Deno.test({
    name: "webgpu without shader-f16: fp16 model refused with a fix, auto takes cpu",
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      let message = "";
      try {
        await loadModel(modelPath("par4"), { backend: "webgpu" });
      } catch (err) {
        assert(err instanceof ManifestError);
        message = err.message;
      }
      assert(message.includes("shader-f16") && message.includes("Fix:"), message);
      const auto = await loadModel(modelPath("par4"), { backend: "auto" });
      try {
        assertEquals(auto.backend, "onnxruntime-node cpu");
      } finally {
        await auto.dispose();
      }
    },
  });
}
if (f16Blocked && !allowNoGpu) {
  Deno.test("WebGPU adapter offers shader-f16 (the parity tests need it)", () => {
    throw new Error(
      `adapter "${adapter!.name}" lacks shader-f16, so the parity tests cannot run. Fix: ` +
        "apt-get install mesa-vulkan-drivers libvulkan1 (Vulkan llvmpipe offers it), or set " +
        "PARLAB_ALLOW_NO_GPU=1 to skip",
    );
  });
}
const ignore = !haveModels || !adapter || f16Blocked;

/** Thrown by {@link Recorder} to end a `sample()` run after a number of steps. */
class StopAfter extends Error {}

/** Passes steps through to a model and keeps copies of every step's inputs and logits. */
class Recorder implements ARModel {
  inputs: StepInputs[] = [];
  logits: Float32Array[] = [];
  constructor(readonly inner: ARModel, readonly stopAfter = Infinity) {}
  get manifest() {
    return this.inner.manifest;
  }
  get source() {
    return this.inner.source;
  }
  get backendName() {
    return this.inner.backendName;
  }
  get backend() {
    return this.inner.backend;
  }
  newCache(batch: number): KVCache {
    return this.inner.newCache(batch);
  }
  async step(cache: KVCache, inputs: StepInputs): Promise<StepOutput> {
    if (this.inputs.length >= this.stopAfter) throw new StopAfter();
    this.inputs.push({
      ...inputs,
      inputIds: inputs.inputIds.slice(),
      positionIds: inputs.positionIds.slice(),
      attentionMask: inputs.attentionMask.slice(),
    });
    const out = await this.inner.step(cache, inputs);
    this.logits.push(out.logits.slice());
    return out;
  }
  truncate(cache: KVCache, length: number): void {
    this.inner.truncate(cache, length);
  }
  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

/** Largest |a - b| / max(1, |a|) over two logit arrays. */
function maxScaledDiff(a: Float32Array, b: Float32Array): number {
  assertEquals(a.length, b.length, "logit counts differ");
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(a[i])));
  }
  return worst;
}

/**
 * Load `config` on both backends, run `fn`, then release both sessions (also when `fn` throws):
 * a session left alive when the test process exits races the runtimes' own teardown.
 */
async function withPair<T>(
  config: string,
  fn: (p: { cpu: ARModel; gpu: ARModel }) => Promise<T>,
): Promise<T> {
  const cpu = await loadModel(modelPath(config), { backend: "cpu", threads: 1 });
  try {
    const gpu = await loadModel(modelPath(config), { backend: "webgpu" });
    try {
      return await fn({ cpu, gpu });
    } finally {
      await gpu.dispose();
    }
  } finally {
    await cpu.dispose();
  }
}

/** Run `sample()` on both backends with the same uniforms; compare what was fed and returned. */
function compareSampling(config: string, stopAfter: number) {
  return withPair(config, ({ cpu, gpu }) => compareWith(config, stopAfter, cpu, gpu));
}

async function compareWith(config: string, stopAfter: number, cpu: ARModel, gpu: ARModel) {
  const schedule = scheduleByName(makeGrid(24, 24), config);
  const opts = { schedule, classes: [1], cfgScale: 2, seed: 11, onWarning: () => {} };
  const runs: { rec: Recorder; tokens?: Int32Array }[] = [];
  for (const model of [cpu, gpu]) {
    const rec = new Recorder(model, stopAfter);
    try {
      const out = await sample(rec, opts);
      runs.push({ rec, tokens: out.tokens });
    } catch (err) {
      if (!(err instanceof StopAfter)) throw err;
      runs.push({ rec });
    }
  }
  const [a, b] = runs;
  const steps = Math.min(stopAfter, schedule.steps.length);
  assertEquals(a.rec.inputs.length, steps);
  assertEquals(b.rec.inputs.length, steps);
  let worst = 0;
  for (let s = 0; s < steps; s++) {
    // Step s's input ids hold the tokens sampled at step s-1: equal ids = equal tokens so far.
    assertEquals(b.rec.inputs[s].inputIds, a.rec.inputs[s].inputIds, `${config} step ${s} ids`);
    worst = Math.max(worst, maxScaledDiff(a.rec.logits[s], b.rec.logits[s]));
  }
  if (a.tokens && b.tokens) assertEquals(b.tokens, a.tokens, `${config}: sampled tokens`);
  assert(worst <= TOL, `${config}: logits differ by ${worst} (tolerance ${TOL})`);
  return worst;
}

for (const [config, stopAfter] of [["par16", Infinity], ["par4", 40], ["raster", 40]] as const) {
  Deno.test({
    name: `webgpu = cpu: ${config} via sample() with CFG (${
      stopAfter === Infinity ? "all steps" : `first ${stopAfter} steps`
    })`,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      await compareSampling(config, stopAfter);
    },
  });
}

Deno.test({
  name: "webgpu truncate: dropped slots leave no trace (GPU copy), cut to 0 restarts",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withPair("par4", async ({ cpu, gpu }) => {
      // Record 7 steps of inputs (4 single steps, then 4-cell groups with transition slots).
      const rec = new Recorder(cpu, 7);
      const schedule = scheduleByName(makeGrid(24, 24), "par4");
      await sample(rec, { schedule, classes: [0, 2], cfgScale: 2, seed: 3, onWarning: () => {} })
        .catch((err) => {
          if (!(err instanceof StopAfter)) throw err;
        });
      const steps = rec.inputs;
      const cache = gpu.newCache(steps[0].batch);
      const first: Float32Array[] = [];
      for (const s of steps) first.push((await gpu.step(cache, s)).logits.slice());
      // Keep steps 0..3 (their slots), then replay steps 4..6.
      const kept = steps.slice(0, 4).reduce((n, s) => n + s.length, 0);
      gpu.truncate(cache, kept);
      assertEquals(cache.length, kept);
      for (let s = 4; s < steps.length; s++) {
        const again = (await gpu.step(cache, steps[s])).logits;
        assert(maxScaledDiff(first[s], again) <= TOL, `step ${s} after truncate`);
        assert(maxScaledDiff(rec.logits[s], again) <= TOL, `step ${s} against cpu`);
      }
      gpu.truncate(cache, 0);
      const restart = (await gpu.step(cache, steps[0])).logits;
      assert(maxScaledDiff(first[0], restart) <= TOL, "step 0 after truncate to 0");
      (gpu as WebGpuModel).releaseCache(cache);
      assertEquals(cache.length, 0);
    });
  },
});

Deno.test({
  name: "loadModel: backend strings name the runtime and the adapter; auto; bad names",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withPair("par4", ({ cpu, gpu }) => {
      assertEquals(cpu.backend, "onnxruntime-node cpu");
      assert(gpu instanceof WebGpuModel);
      assert(gpu.backend.startsWith("onnxruntime-web webgpu ("), gpu.backend);
      assert(gpu.backend.includes(adapter!.name), gpu.backend);
      return Promise.resolve();
    });
    const auto = await loadModel(modelPath("par4"), { backend: "auto" });
    try {
      const expected = (await resolveAutoBackend()).backend;
      assert(auto.backend.includes(expected === "webgpu" ? "webgpu" : "cpu"), auto.backend);
    } finally {
      await auto.dispose();
    }
    let message = "";
    try {
      await loadModel(modelPath("par4"), { backend: "metal" as "cpu" });
    } catch (err) {
      assert(err instanceof ManifestError);
      message = err.message;
    }
    assert(message.includes("backend") && message.includes("cpu, cuda, webgpu, auto"), message);
  },
});
