/**
 * WebGPU in Deno (`navigator.gpu`, stable in Deno 2.x) for onnxruntime-web: the adapter, what it
 * can do, and the runtime set up once per process. Any GPU with a Vulkan, Metal or D3D12 driver
 * works, and so does Mesa's software Vulkan (llvmpipe), which CI uses.
 * @module
 */
import { loadOrtWeb, type OrtWeb, ortWebBundleUrl } from "../deps/ort.ts";
import { ManifestError } from "../util/errors.ts";
import { filePermissionError, isNotCapable } from "../util/atomic.ts";
import { unescapePath } from "../io/read.ts";

/** What the WebGPU adapter is, as reported in {@link ARModel.backend}. */
export interface WebGpuAdapterInfo {
  /** Human-readable adapter name (driver description, else vendor/architecture/device). */
  name: string;
  /** True for a software or otherwise fallback adapter (e.g. Mesa llvmpipe). */
  fallback: boolean;
  /** The adapter offers `shader-f16` (half-precision arithmetic in shaders). */
  shaderF16: boolean;
}

let adapterPromise: Promise<GPUAdapter | null> | undefined;
let ortReady: { ort: OrtWeb; adapter: GPUAdapter; info: WebGpuAdapterInfo } | undefined;

/**
 * The WebGPU adapter this process uses (requested once), or null when `navigator.gpu` is absent
 * or offers none.
 */
export function webGpuAdapter(
  powerPreference: "low-power" | "high-performance" = "high-performance",
): Promise<GPUAdapter | null> {
  adapterPromise ??= (async () => {
    const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
    if (!gpu) return null;
    try {
      return await gpu.requestAdapter({ powerPreference });
    } catch {
      return null;
    }
  })();
  return adapterPromise;
}

/** Describe an adapter: name, software fallback or not, shader-f16 support. */
export function describeAdapter(adapter: GPUAdapter): WebGpuAdapterInfo {
  const i = adapter.info;
  const parts = [i.vendor, i.architecture, i.device].filter((x) => x && x !== "0");
  const name = i.description || parts.join(" ") || "unknown adapter";
  return {
    name,
    fallback: Boolean((i as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    shaderF16: adapter.features.has("shader-f16"),
  };
}

/** The adapter's info, or null when there is no WebGPU adapter. */
export async function webGpuAdapterInfo(): Promise<WebGpuAdapterInfo | null> {
  const a = await webGpuAdapter();
  return a ? describeAdapter(a) : null;
}

/**
 * Why `manifest`'s model cannot run on `adapter`, or null when it can. Both cases need the
 * adapter feature `shader-f16`: fp16-compute graphs (`compute: "float16"`) do all their
 * arithmetic and keep their KV cache in fp16; fp16-stored models (`dtype: "float16"`) gather
 * their embedding rows from fp16 tables before casting them up, and onnxruntime-web's Gather
 * needs the feature for that too (measured: wgpu's GL backend on llvmpipe lacks it and the step
 * fails with "Program Gather requires f16").
 */
export function webGpuBlocker(
  manifest: { name: string; dtype: string; compute?: string; cache?: string },
  adapter: WebGpuAdapterInfo,
): string | null {
  if (manifest.cache === "new") {
    // Such a graph returns only each step's keys and values: the CPU backend keeps the cache in
    // its own buffers; on a GPU it would have to come back to the host every step.
    return `backend webgpu: model "${manifest.name}" is a CPU graph (split attention, cache ` +
      `"new": it does not return the grown cache, which the webgpu backend keeps on the GPU). ` +
      "Fix: use --backend cpu (or auto), or export it with --attention mha";
  }
  if (manifest.compute === "float16" && !adapter.shaderF16) {
    return `backend webgpu: model "${manifest.name}" computes in float16, which needs the ` +
      `adapter feature shader-f16, and adapter "${adapter.name}" lacks it. Fix: export the ` +
      "model with --compute float32, or use --backend cuda (or cpu, which runs it several " +
      "times slower than an fp32 graph)";
  }
  if (manifest.dtype === "float16" && !adapter.shaderF16) {
    return `backend webgpu: model "${manifest.name}" stores float16 weights, which needs the ` +
      `adapter feature shader-f16, and adapter "${adapter.name}" lacks it. Fix: use --backend ` +
      "cpu (or auto), or export the model with --dtype float32";
  }
  return null;
}

/**
 * onnxruntime-web, handed its wasm from disk and pointed at our adapter. Global and once per
 * process: onnxruntime-web creates one GPU device on the first WebGPU session and keeps it.
 */
export async function initWebGpuRuntime(
  powerPreference: "low-power" | "high-performance" = "high-performance",
): Promise<{ ort: OrtWeb; adapter: GPUAdapter; info: WebGpuAdapterInfo }> {
  if (ortReady) return ortReady;
  const ort = await loadOrtWeb();
  const adapter = await webGpuAdapter(powerPreference);
  if (!adapter) {
    throw new ManifestError(
      "backend webgpu: no WebGPU adapter (navigator.gpu.requestAdapter gave none). Fix: install " +
        "a Vulkan driver (Linux: apt-get install mesa-vulkan-drivers libvulkan1 for the software " +
        "adapter, or the GPU vendor's driver), or use --backend cpu",
    );
  }
  // The bundle embeds its JS glue; the .wasm beside it on disk is read here and handed over
  // (no fetch of a file: URL, so it works wherever node_modules is, packed copies included).
  const wasmUrl = new URL("ort-wasm-simd-threaded.asyncify.wasm", ortWebBundleUrl());
  try {
    ort.env.wasm.wasmBinary = await Deno.readFile(wasmUrl);
  } catch (err) {
    if (isNotCapable(err)) throw filePermissionError("read", unescapePath(wasmUrl.pathname), err);
    throw new ManifestError(
      `backend webgpu: cannot read onnxruntime-web's wasm at ${wasmUrl.pathname} ` +
        `(${(err as Error).message}). Fix: run \`deno install\` in the project folder`,
    );
  }
  // CPU-side ops (shapes) are tiny; one thread avoids web workers in Deno.
  ort.env.wasm.numThreads = 1;
  ort.env.webgpu.adapter = adapter as unknown as typeof ort.env.webgpu.adapter;
  ortReady = { ort, adapter, info: describeAdapter(adapter) };
  return ortReady;
}
