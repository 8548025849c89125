/**
 * Where ONNX graphs run: the backend table (`cpu`, `cuda`, `webgpu`, `auto`), onnxruntime-node
 * sessions, WebGPU adapters and onnxruntime-web set-up, and reading manifest-referenced files
 * with their sha256 checked. The model, tokenizer and metrics layers load every graph through it.
 * @module
 */
export {
  BACKEND_CHOICES,
  type BackendInfo,
  type BackendName,
  BACKENDS,
  BackendSchema,
  type ConcreteBackend,
  resolveAutoBackend,
} from "./backends.ts";
export {
  DEFAULT_MAX_BYTES,
  DEFAULT_TIMEOUT_MS,
  folderOf,
  type LoadLimits,
  MAX_MANIFEST_BYTES,
  readFileBytes,
  readManifestJson,
  readReferencedFile,
  type ReferencedFile,
  resolveReference,
} from "./files.ts";
export {
  createNodeSession,
  cudaAvailable,
  missingCudaLibraries,
  type NodeSessionOptions,
  openReferencedGraph,
} from "./ort_node.ts";
export {
  describeAdapter,
  initWebGpuRuntime,
  webGpuAdapter,
  type WebGpuAdapterInfo,
  webGpuAdapterInfo,
  webGpuBlocker,
} from "./webgpu.ts";
