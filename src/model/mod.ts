/**
 * AR token models behind one interface: the manifest, the onnxruntime-node backend (CPU, CUDA),
 * the onnxruntime-web WebGPU backend and `loadModel`, which picks one.
 * @module
 */
export type { ARModel, KVCache, StepInputs, StepOutput } from "./ar_model.ts";
export {
  classTokenId,
  ManifestError,
  type ModelManifest,
  ModelManifestSchema,
  nullClassId,
  parseModelManifest,
  transitionTokenId,
} from "./manifest.ts";
export {
  cudaAvailable,
  loadManifest,
  loadOnnxModel,
  missingCudaLibraries,
  type OnnxLoadOptions,
} from "./onnx_node.ts";
export { loadModelTokenizer } from "./tokenizer.ts";
export { FIXTURE_MODELS_DIR, fixtureModel } from "./fixtures.ts";
export {
  describeAdapter,
  loadWebGpuModel,
  webGpuAdapter,
  type WebGpuAdapterInfo,
  webGpuAdapterInfo,
  webGpuBlocker,
  type WebGpuLoadOptions,
  WebGpuModel,
} from "./onnx_webgpu.ts";
export {
  type BackendName,
  BackendSchema,
  loadModel,
  type LoadModelOptions,
  resolveAutoBackend,
} from "./load.ts";
