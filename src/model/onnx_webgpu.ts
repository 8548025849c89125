/**
 * onnxruntime-web implementation of {@link ARModel} on the WebGPU execution provider, inside
 * Deno (`navigator.gpu` is stable in Deno 2.x: no flag). Any GPU with a Vulkan, Metal or D3D12
 * driver works, and so does Mesa's software Vulkan (llvmpipe), which CI uses.
 *
 * The KV cache never leaves the GPU: every `present.*` output is requested as a GPU buffer and
 * fed back unchanged as the next step's `past.*` input (the previous step's buffers are released
 * right after); only the logits are downloaded. A step that draws in the graph (manifest
 * `samplingHead`, {@link StepInputs.draw}) leaves the logits out of its fetches too, so they stay
 * on the GPU as the head's input and only the token ids ([images, T] int64) are downloaded; the
 * first step of a cache still downloads them once for the finite scan, later steps rely on the
 * head marking a slot with non-finite logits -1. {@link ARModel.truncate} copies the kept prefix
 * of every cache tensor into a new GPU buffer with one command encoder (no CPU round trip).
 * @module
 */
import type { OrtWeb, OrtWebTypes } from "../deps/ort.ts";
import { initWebGpuRuntime, type WebGpuAdapterInfo, webGpuBlocker } from "../runtime/webgpu.ts";
import { ManifestError } from "../util/errors.ts";
import type { ARModel, KVCache, StepInputs, StepOutput } from "./ar_model.ts";
import {
  cacheArray,
  checkContract,
  checkFiniteLogits,
  checkStepOutputs,
  emptyCacheData,
  keepSlots,
  pastInputNames,
  type PastNames,
  presentOutputNames,
  stepFeeds,
  type TensorConstructor,
} from "./feeds.ts";
import type { ModelManifest } from "./manifest.ts";
import { limitsOf, loadManifest, readModelGraph } from "./onnx_node.ts";
import type { LoadLimits } from "../runtime/files.ts";
import { drawResult, headFeeds, type HeadTensorConstructor, stepFetches } from "./sampling_head.ts";

/**
 * Options of {@link loadWebGpuModel}; the {@link LoadLimits} (timeout, sizes, `allowOutside`)
 * bound the reads of the manifest and the graph.
 */
export interface WebGpuLoadOptions extends LoadLimits {
  /** Skip the sha256 check of the ONNX file against the manifest (default false). */
  skipHashCheck?: boolean;
  /** Graph optimisation level (default `all`). */
  graphOptimization?: "disabled" | "basic" | "extended" | "all";
  /** Adapter preference passed to `navigator.gpu.requestAdapter` (default `high-performance`). */
  powerPreference?: "low-power" | "high-performance";
}

type OrtTensor = InstanceType<OrtWeb["Tensor"]>;

/** onnxruntime-web, set by {@link loadWebGpuModel} before any model exists. */
let ort: OrtWeb;

/** The WebGPU cache: per layer one key and one value tensor, on the GPU once a step has run. */
class GpuCache implements KVCache {
  readonly batch: number;
  length = 0;
  /** Steps run on this cache (for messages). */
  steps = 0;
  readonly store: { keys: OrtTensor[]; values: OrtTensor[] };

  constructor(batch: number, manifest: ModelManifest) {
    this.batch = batch;
    const { layers, kvHeads, headDim } = manifest;
    // the manifest's compute dtype: an fp16-compute graph takes and returns float16 caches
    const { type, data } = emptyCacheData(manifest);
    const empty = () => new ort.Tensor(type, data, [batch, kvHeads, 0, headDim]);
    this.store = {
      keys: Array.from({ length: layers }, empty),
      values: Array.from({ length: layers }, empty),
    };
  }
}

function release(t: OrtTensor): void {
  if (t.location === "gpu-buffer") t.dispose();
}

/** Caches dropped without `releaseCache` give their GPU buffers back when collected. */
const orphanedCaches = new FinalizationRegistry<{ keys: OrtTensor[]; values: OrtTensor[] }>(
  (store) => {
    for (const t of [...store.keys, ...store.values]) {
      try {
        release(t);
      } catch {
        // the session may already be gone
      }
    }
  },
);

/**
 * Load an ONNX step model on the WebGPU execution provider of onnxruntime-web.
 * @example
 * const model = await loadWebGpuModel("fixtures/models/tiny-par4.json");
 * model.backend; // "onnxruntime-web webgpu (llvmpipe (LLVM 15.0.6, 256 bits); software; shader-f16)"
 */
export async function loadWebGpuModel(
  location: string | URL,
  options: WebGpuLoadOptions = {},
): Promise<WebGpuModel> {
  const limits = limitsOf(options);
  const { manifest, url } = await loadManifest(location, limits);
  const bytes = await readModelGraph(manifest, url, options.skipHashCheck, limits);
  const runtime = await initWebGpuRuntime(options.powerPreference ?? "high-performance");
  ort = runtime.ort;
  const info = runtime.info;
  const blocker = webGpuBlocker(manifest, info);
  if (blocker) throw new ManifestError(blocker);
  const preferred: Record<string, "cpu" | "gpu-buffer"> = { logits: "cpu" };
  for (let i = 0; i < manifest.layers; i++) {
    preferred[`present.${i}.key`] = "gpu-buffer";
    preferred[`present.${i}.value`] = "gpu-buffer";
  }
  let session: OrtWebTypes.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ["webgpu"],
      graphOptimizationLevel: options.graphOptimization ?? "all",
      preferredOutputLocation: preferred,
      // 3 = errors only: the "shape ops assigned to CPU" notice is expected and harmless.
      logSeverityLevel: 3,
    });
  } catch (err) {
    throw new ManifestError(
      `${manifest.onnx}: onnxruntime-web cannot load it (${
        String((err as Error)?.message ?? err).split("\n")[0]
      }). Fix: re-export it`,
    );
  }
  try {
    checkContract(session, manifest);
  } catch (err) {
    await session.release();
    throw err;
  }
  const device = ort.env.webgpu.device as unknown as GPUDevice;
  return new WebGpuModel(manifest, url, session, info, device, limits);
}

/** An {@link ARModel} on onnxruntime-web's WebGPU provider (see the module doc). */
export class WebGpuModel implements ARModel {
  readonly manifest: ModelManifest;
  readonly source: URL;
  readonly backend: string;
  readonly backendName = "webgpu" as const;
  /** The adapter the session runs on. */
  readonly adapter: WebGpuAdapterInfo;
  /** The GPU device onnxruntime-web created (shared by every WebGPU session of the process). */
  readonly device: GPUDevice;
  readonly loadLimits: LoadLimits;
  readonly #session: OrtWebTypes.InferenceSession;
  readonly #names: PastNames;

  /**
   * Wrap a loaded session; {@link loadWebGpuModel} is the way to make one.
   * @param manifest the validated manifest
   * @param source where the manifest was read from
   * @param session the onnxruntime-web session on the WebGPU provider
   * @param adapter the adapter it runs on
   * @param device the GPU device onnxruntime-web created
   * @param limits the limits it was loaded with (its tokenizer loads under them)
   */
  constructor(
    manifest: ModelManifest,
    source: URL,
    session: OrtWebTypes.InferenceSession,
    adapter: WebGpuAdapterInfo,
    device: GPUDevice,
    limits: LoadLimits = {},
  ) {
    this.manifest = manifest;
    this.loadLimits = limits;
    this.source = source;
    this.#session = session;
    this.adapter = adapter;
    this.device = device;
    const f16 = device?.features?.has("shader-f16") ? "shader-f16" : "no shader-f16";
    this.backend = `onnxruntime-web webgpu (${adapter.name}; ${
      adapter.fallback ? "software" : "hardware"
    }; ${f16})`;
    this.#names = pastInputNames(manifest.layers);
  }

  newCache(batch: number): KVCache {
    const m = this.manifest;
    const cache = new GpuCache(batch, m);
    orphanedCaches.register(cache, cache.store, cache);
    return cache;
  }

  async step(cache: KVCache, inputs: StepInputs): Promise<StepOutput> {
    const c = cache as GpuCache;
    const { keys, values } = c.store;
    const feeds = stepFeeds(
      ort.Tensor as unknown as TensorConstructor<OrtTensor>,
      inputs,
      c,
      this.#names,
      c.store,
    );
    const m = this.manifest;
    if (m.samplingHead || inputs.draw) {
      const Tensor = ort.Tensor as unknown as HeadTensorConstructor<OrtTensor>;
      Object.assign(feeds, headFeeds(Tensor, inputs, m));
    }
    // With a head only what the step needs is fetched: a drawing step leaves the logits on the GPU.
    const fetch = stepFetches(presentOutputNames(this.manifest.layers), inputs, c.steps === 0);
    const t0 = performance.now();
    const out = m.samplingHead
      ? await this.#session.run(feeds, fetch.names)
      : await this.#session.run(feeds);
    // run() resolves once the logits (or tokens) are downloaded, so the GPU work is done.
    const modelSeconds = (performance.now() - t0) / 1000;
    let drawn: { tokens?: Int32Array };
    try {
      checkStepOutputs(
        out as Record<string, OrtTensor>,
        m,
        inputs,
        c.length,
        "present",
        fetch.logits,
      );
      // The full scan once per cache; later steps: every draw checks its own logits for free (a
      // JavaScript draw's sum turns NaN; the graph's head marks such a slot's token -1).
      if (c.steps === 0) {
        checkFiniteLogits(out.logits.data as Float32Array, m, inputs, c.steps);
      }
      drawn = drawResult(out as Record<string, OrtTensor>, m, inputs);
    } catch (err) {
      // This step's outputs never reach the cache: give their GPU buffers back now.
      for (const t of Object.values(out)) release(t as OrtTensor);
      throw err;
    }
    const logits = fetch.logits ? out.logits.data as Float32Array : new Float32Array(0);
    for (let i = 0; i < this.manifest.layers; i++) {
      release(keys[i]);
      release(values[i]);
      keys[i] = out[`present.${i}.key`] as OrtTensor;
      values[i] = out[`present.${i}.value`] as OrtTensor;
    }
    c.length += inputs.length;
    c.steps++;
    return { logits, modelSeconds, ...drawn };
  }

  /**
   * Keep the first `length` cached slots. Cost: one new GPU buffer per cache tensor and
   * batch x kvHeads buffer-to-buffer copies each, in one command submission; nothing crosses to
   * the CPU (the old buffers are released).
   */
  truncate(cache: KVCache, length: number): void {
    const c = cache as GpuCache;
    if (length < 0 || length > c.length) {
      throw new RangeError(`cannot truncate a cache of ${c.length} to ${length}`);
    }
    if (length === c.length) return;
    const { keys, values } = c.store;
    const m = this.manifest;
    const dims = [c.batch, m.kvHeads, length, m.headDim];
    if (length === 0) {
      const fresh = new GpuCache(c.batch, m).store;
      for (let i = 0; i < m.layers; i++) {
        release(keys[i]);
        release(values[i]);
        keys[i] = fresh.keys[i];
        values[i] = fresh.values[i];
      }
      c.length = 0;
      return;
    }
    const encoder = this.device.createCommandEncoder();
    const dataType = m.compute;
    // bytes of one head's slot: 4 a float32 element, 2 a float16 one (copy offsets and sizes
    // must be multiples of 4, which an even headDim gives; RoPE needs it even anyway)
    const rowBytes = m.headDim * (dataType === "float16" ? 2 : 4);
    const cut = (t: OrtTensor): OrtTensor => {
      if (t.location !== "gpu-buffer") {
        // A CPU tensor (only before the first step, or after a cut to 0): slice on the CPU.
        const rows = c.batch * m.kvHeads;
        const dst = keepSlots(cacheArray(t), rows, c.length, length, m.headDim);
        return new ort.Tensor(dataType, dst, dims);
      }
      const src = t.gpuBuffer as unknown as GPUBuffer;
      const dst = this.device.createBuffer({
        size: c.batch * m.kvHeads * length * rowBytes,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      for (let bh = 0; bh < c.batch * m.kvHeads; bh++) {
        encoder.copyBufferToBuffer(
          src,
          bh * c.length * rowBytes,
          dst,
          bh * length * rowBytes,
          length * rowBytes,
        );
      }
      return ort.Tensor.fromGpuBuffer(
        dst as unknown as Parameters<typeof ort.Tensor.fromGpuBuffer>[0],
        {
          dataType,
          dims,
          dispose: () => dst.destroy(),
        },
      );
    };
    const newKeys = keys.map(cut);
    const newValues = values.map(cut);
    this.device.queue.submit([encoder.finish()]);
    for (let i = 0; i < m.layers; i++) {
      release(keys[i]);
      release(values[i]);
      keys[i] = newKeys[i];
      values[i] = newValues[i];
    }
    c.length = length;
  }

  /** Give a cache's GPU buffers back now (otherwise that happens when it is garbage-collected). */
  releaseCache(cache: KVCache): void {
    const c = cache as GpuCache;
    orphanedCaches.unregister(c);
    const m = this.manifest;
    const fresh = new GpuCache(c.batch, m).store;
    for (let i = 0; i < m.layers; i++) {
      release(c.store.keys[i]);
      release(c.store.values[i]);
      c.store.keys[i] = fresh.keys[i];
      c.store.values[i] = fresh.values[i];
    }
    c.length = 0;
  }

  async dispose(): Promise<void> {
    await this.#session.release();
  }
}
