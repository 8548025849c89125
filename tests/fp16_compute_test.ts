/**
 * Half-precision compute graphs (manifest `compute: "float16"`, python/fused.py): the float16 KV
 * cache on both backends, and the micro model's fp16 logits against its fp32 fused graph.
 *
 * - Cache plumbing (no runtime): empty caches follow `compute`; `keepSlots` and `cacheArray`
 *   copy float16 bits exactly; an adapter without `shader-f16` refuses the model with a fix.
 * - CPU (onnxruntime-node): micro-par4-f16 decodes with its float16 cache, truncation included,
 *   within {@link FP16_LOGIT_TOL} of micro-par4-fused (the same fp16-rounded weights in fp32).
 * - WebGPU: the golden replay against PyTorch within the golden's fp16 tolerance, a whole
 *   guided decode within {@link FP16_LOGIT_TOL} / {@link FP16_MEAN_TOL} of the fp32 graph (run
 *   on the CPU: it is the CPU's split-attention layout) with the same argmax everywhere, and the GPU-side truncation of a float16 cache (2-byte rows).
 *   Skipped like tests/webgpu_test.ts: without an adapter only when PARLAB_ALLOW_NO_GPU=1; an
 *   adapter without shader-f16 tests the refusal instead.
 */
import { LogitTee } from "../bench/fp16_parity.ts";
import { type ARModel, loadModel, type StepInputs, WebGpuModel } from "../src/model/mod.ts";
import { cacheArray, emptyCacheData, keepSlots } from "../src/model/feeds.ts";
import { webGpuAdapterInfo, webGpuBlocker } from "../src/runtime/mod.ts";
import { sample } from "../src/sampler/mod.ts";
import { scheduleFromJSON } from "../src/schedule/mod.ts";
import { ManifestError } from "../src/util/mod.ts";
import { assert, assertEquals } from "./assert.ts";
import { replayGolden } from "./golden_replay.ts";

const models = new URL("../fixtures/models/", import.meta.url);
const F16 = new URL("micro-par4-f16.json", models);
const F32 = new URL("micro-par4-fused.json", models);
const GOLDEN = new URL("../fixtures/golden/micro-par4-f16/", import.meta.url);

/**
 * Max |fp16 - fp32 logit| of the micro model (|logits| up to 12). Measured on a whole guided
 * decode (bench/fp16_parity.ts): 2.5e-2 on WebGPU (llvmpipe), 7.0e-3 on the CPU backend,
 * whose provider runs most fp16 operators in fp32 between inserted casts; twice the worst.
 */
const FP16_LOGIT_TOL = 5e-2;
/** Mean |fp16 - fp32 logit|: measured 2.3e-3 (WebGPU), 9.2e-4 (CPU); twice the worst. */
const FP16_MEAN_TOL = 5e-3;

const adapter = await webGpuAdapterInfo();
const allowNoGpu = Deno.env.get("PARLAB_ALLOW_NO_GPU") === "1";
const noGpu = !adapter || !adapter.shaderF16;
if (noGpu) {
  const why = adapter
    ? `adapter "${adapter.name}" lacks shader-f16`
    : "no WebGPU adapter (navigator.gpu.requestAdapter gave none)";
  if (allowNoGpu) console.warn(`fp16_compute_test: WebGPU parts skipped: ${why}`);
  else {
    Deno.test("WebGPU adapter with shader-f16 is present (the fp16 WebGPU tests need it)", () => {
      throw new Error(
        `${why}. Fix: apt-get install mesa-vulkan-drivers libvulkan1 (Vulkan llvmpipe offers ` +
          "shader-f16), or set PARLAB_ALLOW_NO_GPU=1 to skip",
      );
    });
  }
}

/** The first `steps` steps' inputs of the micro model's guided par4 decode (classes 0 and 2). */
async function recordInputs(model: ARModel, steps: number): Promise<StepInputs[]> {
  const inputs: StepInputs[] = [];
  const rec: ARModel = {
    manifest: model.manifest,
    source: model.source,
    backend: model.backend,
    backendName: model.backendName,
    newCache: (b) => model.newCache(b),
    step: (cache, s) => {
      if (inputs.length < steps) {
        inputs.push({
          ...s,
          inputIds: s.inputIds.slice(),
          positionIds: s.positionIds.slice(),
          attentionMask: s.attentionMask.slice(),
        });
      }
      return model.step(cache, s);
    },
    truncate: (cache, n) => model.truncate(cache, n),
    dispose: () => Promise.resolve(),
  };
  await sample(rec, {
    schedule: scheduleFromJSON(model.manifest.schedule),
    classes: [0, 2],
    seed: 5,
    onWarning: () => {},
  });
  return inputs;
}

/** Largest |a - b|. */
function maxAbs(a: Float32Array, b: Float32Array): number {
  assertEquals(a.length, b.length, "logit counts differ");
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/**
 * Run `steps`, truncate to the slots of the first `keep`, replay the rest: the logits must be
 * the ones of the first run (exactly: the same kernels read the same cached values), then a cut
 * to 0 restarts.
 */
async function truncationReplays(model: ARModel, steps: StepInputs[], keep: number) {
  const cache = model.newCache(steps[0].batch);
  const first: Float32Array[] = [];
  for (const s of steps) first.push((await model.step(cache, s)).logits.slice());
  const kept = steps.slice(0, keep).reduce((n, s) => n + s.length, 0);
  model.truncate(cache, kept);
  assertEquals(cache.length, kept);
  for (let s = keep; s < steps.length; s++) {
    const again = (await model.step(cache, steps[s])).logits;
    assertEquals(maxAbs(first[s], again), 0, `step ${s} after truncate`);
  }
  model.truncate(cache, 0);
  assertEquals(maxAbs(first[0], (await model.step(cache, steps[0])).logits), 0, "after cut to 0");
  return cache;
}

Deno.test("fp16 cache plumbing: empty caches, exact bit copies, the shader-f16 refusal", () => {
  assertEquals(emptyCacheData({ compute: "float16" }).type, "float16");
  assert(emptyCacheData({ compute: "float16" }).data instanceof Uint16Array);
  assert(emptyCacheData({ compute: "float32" }).data instanceof Float32Array);
  // [rows 2, past 3, headDim 2] of float16 bits, keep 2 slots: NaN payloads and -0 survive.
  const bits = Uint16Array.from([1, 2, 3, 4, 0x7e01, 6, 0x8000, 8, 9, 10, 11, 12]);
  assertEquals(keepSlots(bits, 2, 3, 2, 2), Uint16Array.from([1, 2, 3, 4, 0x8000, 8, 9, 10]));
  assert(keepSlots(bits, 2, 3, 2, 2) instanceof Uint16Array);
  const halves = new Float16Array([1.5, -0, 65504]);
  const view = cacheArray({ type: "float16", data: halves });
  assert(view instanceof Uint16Array && view.buffer === halves.buffer, "a view, not a copy");
  assertEquals([...view], [0x3e00, 0x8000, 0x7bff]);
  const lacking = { name: "GL adapter", fallback: true, shaderF16: false };
  const message = webGpuBlocker({ name: "m", dtype: "float16", compute: "float16" }, lacking);
  assert(message?.includes("computes in float16") && message.includes("shader-f16"), message!);
  assert(message!.includes("Fix:") && message!.includes("--compute float32"), message!);
  assertEquals(
    webGpuBlocker({ name: "m", dtype: "float16", compute: "float16" }, {
      ...lacking,
      shaderF16: true,
    }),
    null,
  );
});

Deno.test("fp16 compute on the CPU backend: float16 cache, truncation, logits near fp32", async () => {
  const f16 = await loadModel(F16, { backend: "cpu", threads: 1 });
  const f32 = await loadModel(F32, { backend: "cpu", threads: 1 });
  try {
    assertEquals(f16.manifest.compute, "float16");
    const tee = new LogitTee(f32, f16);
    await sample(tee, {
      schedule: scheduleFromJSON(f32.manifest.schedule),
      classes: [0, 1, 2, 3],
      seed: 0,
      onWarning: () => {},
    });
    const p = tee.parity();
    assertEquals(p.steps, f32.manifest.schedule!.steps.length);
    assert(p.maxAbs > 0, "the fp16 graph computed exactly the fp32 logits: is it fp16?");
    assert(p.maxAbs <= FP16_LOGIT_TOL, `max |logit diff| ${p.maxAbs} > ${FP16_LOGIT_TOL}`);
    assert(p.meanAbs <= FP16_MEAN_TOL, `mean |logit diff| ${p.meanAbs} > ${FP16_MEAN_TOL}`);
    assertEquals(p.argmaxAgreement, 1);
    await truncationReplays(f16, await recordInputs(f16, 7), 4);
  } finally {
    await f16.dispose();
    await f32.dispose();
  }
});

Deno.test({
  name: "fp16 compute on WebGPU: golden replay, whole decode near fp32, GPU truncation",
  ignore: noGpu,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { tolerance, results } = await replayGolden(
      GOLDEN,
      (m) => loadModel(m, { backend: "webgpu" }),
    );
    assertEquals(tolerance, 5e-2, "python/golden.py's FP16_TOLERANCE");
    for (const r of results) {
      assert(r.maxAbsDiff <= tolerance, `golden step ${r.step}: ${r.maxAbsDiff} > ${tolerance}`);
    }
    const f16 = await loadModel(F16, { backend: "webgpu" });
    // micro-par4-fused is the CPU's layout (split attention); fp32 logits are the same on every
    // backend to ~4e-6, so the CPU gives the reference
    const f32 = await loadModel(F32, { backend: "cpu", threads: 1 });
    try {
      assert(f16 instanceof WebGpuModel && f16.backend.includes("shader-f16"), f16.backend);
      const tee = new LogitTee(f32, f16);
      await sample(tee, {
        schedule: scheduleFromJSON(f32.manifest.schedule),
        classes: [0, 1, 2, 3],
        seed: 0,
        onWarning: () => {},
      });
      const p = tee.parity();
      assert(p.maxAbs > 0, "the fp16 graph computed exactly the fp32 logits: is it fp16?");
      assert(p.maxAbs <= FP16_LOGIT_TOL, `max |logit diff| ${p.maxAbs} > ${FP16_LOGIT_TOL}`);
      assert(p.meanAbs <= FP16_MEAN_TOL, `mean |logit diff| ${p.meanAbs} > ${FP16_MEAN_TOL}`);
      assertEquals(p.argmaxAgreement, 1);
      const cache = await truncationReplays(f16, await recordInputs(f16, 7), 4);
      f16.releaseCache(cache);
    } finally {
      await f16.dispose();
      await f32.dispose();
    }
  },
});

if (adapter && !adapter.shaderF16) {
  Deno.test({
    name: "fp16 compute on an adapter without shader-f16: refused at load with a fix",
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      let message = "";
      try {
        await loadModel(F16, { backend: "webgpu" });
      } catch (err) {
        assert(err instanceof ManifestError);
        message = err.message;
      }
      assert(message.includes("computes in float16") && message.includes("Fix:"), message);
    },
  });
}
