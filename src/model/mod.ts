/**
 * AR token models behind one interface: the manifest, and the onnxruntime-node backend.
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
export { cudaAvailable, loadManifest, loadOnnxModel, type OnnxLoadOptions } from "./onnx_node.ts";
export { loadModelTokenizer } from "./tokenizer.ts";
export { FIXTURE_MODELS_DIR, fixtureModel } from "./fixtures.ts";
