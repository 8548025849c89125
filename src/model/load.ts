/**
 * One entry point for every backend: `loadModel(location, { backend })` picks onnxruntime-node
 * (CPU or CUDA) or onnxruntime-web on WebGPU from the backend table, and the returned model's
 * `backend` string says which ran on what.
 * @module
 */
import { type BackendName, BackendSchema, resolveAutoBackend } from "../runtime/backends.ts";
import { webGpuAdapterInfo, webGpuBlocker } from "../runtime/webgpu.ts";
import { ManifestError } from "../util/errors.ts";
import type { LoadLimits } from "../runtime/files.ts";
import type { ARModel } from "./ar_model.ts";
import { limitsOf, loadManifest, loadOnnxModel } from "./onnx_node.ts";
import { loadWebGpuModel } from "./onnx_webgpu.ts";

/**
 * Options of {@link loadModel}. The {@link LoadLimits}: `timeoutMs` (http(s): the longest wait for
 * a response or the next chunk, default 60 s), `maxBytes` (a referenced file, default 4 GiB),
 * `maxManifestBytes` (default 16 MiB), `allowOutside` (let the manifest reference files outside
 * its folder or origin; default false) and `root` (the folder references must lie under, default
 * the manifest's). The model's tokenizer (`loadModelTokenizer`) loads under the same ones.
 */
export interface LoadModelOptions extends LoadLimits {
  /**
   * Where to run (default `cpu`). `auto`: WebGPU when `navigator.gpu` offers a hardware
   * adapter that can run the model (fp16-stored and fp16-compute models need `shader-f16`),
   * else the CPU (a software adapter such as llvmpipe is slower than the CPU backend, so `auto`
   * does not take it; ask for `webgpu` to use it anyway). The CPU runs fp16-compute graphs too:
   * onnxruntime casts around the operators it has no fp16 kernels for, so they compute mostly
   * in fp32 there, and slowly (measured: 5.8x the fp32 graph's step time at batch 8).
   */
  backend?: BackendName;
  /** CPU/CUDA intra-op threads (onnxruntime-node only). */
  threads?: number;
  /** Skip the ONNX sha256 check. */
  skipHashCheck?: boolean;
}

/**
 * Load a model (manifest `.json` or the `.onnx` beside it) on the chosen backend.
 * @example
 * const model = await loadModel("fixtures/models/tiny-par4.json", { backend: "auto" });
 * console.log(model.backend); // e.g. "onnxruntime-node cpu" or "onnxruntime-web webgpu (NVIDIA ...)"
 */
export async function loadModel(
  location: string | URL,
  options: LoadModelOptions = {},
): Promise<ARModel> {
  const parsed = BackendSchema.safeParse(options.backend ?? "cpu");
  if (!parsed.success) {
    throw new ManifestError(
      `backend: "${options.backend}" is not one of ${
        BackendSchema.options.join(", ")
      }. Fix: pick one of those`,
    );
  }
  let backend: BackendName = parsed.data;
  if (backend === "auto") {
    backend = (await resolveAutoBackend()).backend;
    const info = await webGpuAdapterInfo();
    if (backend === "webgpu" && info) {
      const { manifest } = await loadManifest(location, limitsOf(options));
      if (webGpuBlocker(manifest, info)) backend = "cpu";
    }
  }
  if (backend === "webgpu") {
    return await loadWebGpuModel(location, {
      ...limitsOf(options),
      skipHashCheck: options.skipHashCheck,
    });
  }
  return await loadOnnxModel(location, {
    ...limitsOf(options),
    executionProvider: backend,
    threads: options.threads,
    skipHashCheck: options.skipHashCheck,
  });
}
