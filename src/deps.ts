/**
 * The one place that names npm packages with their pinned versions.
 *
 * Users import `mod.ts` by URL, where deno.json's import map does not apply, so every module under
 * `src/` imports third-party code from here, never through a bare specifier. The versions must
 * match deno.json's `imports` (a test checks it).
 * @module
 */
export { z } from "npm:zod@4.6.7";
export * as Plot from "npm:@observablehq/plot@0.6.17";
export { parseHTML } from "npm:linkedom@0.18.12";
export { default as sharp } from "npm:sharp@0.35.5";
export { default as ndarray } from "npm:ndarray@1.1.1";
export type { NdArray } from "npm:ndarray@1.1.1";
export type * as OrtNodeTypes from "npm:onnxruntime-node@1.30.0";
/** The onnxruntime-node module. */
export type OrtNode = typeof import("npm:onnxruntime-node@1.30.0");
let ortNode: Promise<OrtNode> | undefined;
/**
 * onnxruntime-node, loaded on first use rather than at import: a WebGPU-only run (the GPU
 * machine's pack, gpu/) then never needs its 45 MB native library.
 */
export function loadOrtNode(): Promise<OrtNode> {
  // A full specifier on purpose: URL importers have no import map (see the module doc).
  // deno-lint-ignore no-import-prefix
  return ortNode ??= import("npm:onnxruntime-node@1.30.0");
}
export { default as cliProgress } from "npm:cli-progress@3.12.0";
export { gunzipSync, gzipSync } from "npm:fflate@0.8.3";
export { EigenvalueDecomposition, Matrix } from "npm:ml-matrix@6.15.1";
export * as ortWeb from "npm:onnxruntime-web@1.30.0/webgpu";
/**
 * File URL of onnxruntime-web's WebGPU bundle on disk; its `.wasm` sits beside it (the backend
 * reads it from there and hands the bytes over, so a fresh clone works after `deno install`).
 */
export const ORT_WEB_BUNDLE_URL: string = import.meta.resolve(
  "npm:onnxruntime-web@1.30.0/webgpu",
);
