/**
 * onnxruntime-node (CPU, CUDA) and onnxruntime-web (WebGPU), pinned and loaded on first use: the
 * node binding is a 45 MB native library that a WebGPU-only run (the GPU machine's pack, gpu/)
 * never needs, and neither is needed to build schedules or read token files.
 * @module
 */
import { importNative } from "./_native.ts";

export type * as OrtNodeTypes from "npm:onnxruntime-node@1.30.0";
export type * as OrtWebTypes from "npm:onnxruntime-web@1.30.0/webgpu";
/** The onnxruntime-node module. */
export type OrtNode = typeof import("npm:onnxruntime-node@1.30.0");
/** The onnxruntime-web WebGPU module. */
export type OrtWeb = typeof import("npm:onnxruntime-web@1.30.0/webgpu");

let ortNode: Promise<OrtNode> | undefined;
let ortWeb: Promise<OrtWeb> | undefined;

/** onnxruntime-node, imported on the first call. */
export function loadOrtNode(): Promise<OrtNode> {
  return ortNode ??= importNative(
    "onnxruntime-node",
    "--allow-ffi --allow-env --allow-read --allow-sys",
    // A full specifier on purpose: URL importers have no import map.
    // deno-lint-ignore no-import-prefix
    () => import("npm:onnxruntime-node@1.30.0"),
  ).catch((err) => {
    ortNode = undefined;
    throw err;
  });
}

/** onnxruntime-web's WebGPU build, imported on the first call. */
export function loadOrtWeb(): Promise<OrtWeb> {
  return ortWeb ??= importNative(
    "onnxruntime-web",
    "--allow-read --allow-env",
    // deno-lint-ignore no-import-prefix
    () => import("npm:onnxruntime-web@1.30.0/webgpu"),
  ).catch((err) => {
    ortWeb = undefined;
    throw err;
  });
}

/**
 * File URL of the folder holding onnxruntime-node's native binding and libraries for this
 * platform (where its install script would put the CUDA provider libraries).
 */
export function ortNodeBinaryDir(): URL {
  const index = import.meta.resolve("npm:onnxruntime-node@1.30.0");
  return new URL(
    `../bin/napi-v6/${Deno.build.os}/${Deno.build.arch === "x86_64" ? "x64" : "arm64"}/`,
    index,
  );
}

/**
 * File URL of onnxruntime-web's WebGPU bundle on disk; its `.wasm` sits beside it (the backend
 * reads it from there and hands the bytes over, so a fresh clone works after `deno install`).
 */
export function ortWebBundleUrl(): string {
  return import.meta.resolve("npm:onnxruntime-web@1.30.0/webgpu");
}
