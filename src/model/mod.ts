/**
 * AR token models behind one interface ({@link ARModel}): the manifest, the onnxruntime-node
 * model (CPU, CUDA), the onnxruntime-web WebGPU model, `loadModel`, which picks one from the
 * backend table (`parlab/runtime`), and the tokenizer a manifest names.
 * @module
 */
export type { ARModel, KVCache, StepDraw, StepInputs, StepOutput } from "./ar_model.ts";
export {
  classTokenId,
  isVideoModel,
  type ModelManifest,
  ModelManifestSchema,
  nullClassId,
  parseModelManifest,
  type Rope,
  RopeSchema,
  transitionTokenId,
} from "./manifest.ts";
export { loadManifest, loadOnnxModel, type OnnxLoadOptions, readModelGraph } from "./onnx_node.ts";
export { loadModelTokenizer } from "./tokenizer.ts";
export { FIXTURE_MODELS_DIR, fixtureModel } from "./fixtures.ts";
export { loadWebGpuModel, type WebGpuLoadOptions, WebGpuModel } from "./onnx_webgpu.ts";
export { loadModel, type LoadModelOptions } from "./load.ts";
export { estimateModelMemory, type MemoryEstimate } from "./memory.ts";
