/**
 * The backend table: every place that names, lists, checks or picks a backend (the model loader,
 * `--backend` of every CLI, the experiments, the benches) reads it from here.
 * @module
 */
import { z } from "../deps/zod.ts";
import { cudaAvailable } from "./ort_node.ts";
import { webGpuAdapterInfo } from "./webgpu.ts";

/** A backend that runs ONNX graphs. */
export interface BackendInfo {
  /** One line for `--help` and reports. */
  description: string;
  /** The runtime package behind it. */
  runtime: "onnxruntime-node" | "onnxruntime-web";
  /** Whether it can run on this machine now (cheap; cached by the runtimes). */
  available(): Promise<boolean>;
}

/** The backends, by the name `--backend` takes. */
export const BACKENDS: Readonly<Record<"cpu" | "cuda" | "webgpu", BackendInfo>> = {
  cpu: {
    description: "onnxruntime-node on the CPU",
    runtime: "onnxruntime-node",
    available: () => Promise.resolve(true),
  },
  cuda: {
    description: "onnxruntime-node's CUDA provider (needs its CUDA libraries on disk)",
    runtime: "onnxruntime-node",
    available: cudaAvailable,
  },
  webgpu: {
    description:
      "onnxruntime-web on WebGPU (Vulkan, Metal or D3D12; the KV cache stays on the GPU)",
    runtime: "onnxruntime-web",
    available: async () => (await webGpuAdapterInfo()) !== null,
  },
};

/** A concrete backend: `cpu` | `cuda` | `webgpu`. */
export type ConcreteBackend = keyof typeof BACKENDS;

/** Backend names accepted by the loaders and `--backend`: the table's, plus `auto`. */
export const BackendSchema = z.enum(["cpu", "cuda", "webgpu", "auto"]);

/** `cpu` | `cuda` | `webgpu` | `auto`. */
export type BackendName = z.infer<typeof BackendSchema>;

/** The names `--backend` takes, for usage lines: `cpu|cuda|webgpu|auto`. */
export const BACKEND_CHOICES: string = BackendSchema.options.join("|");

/**
 * The backend `auto` resolves to on this machine, and why: WebGPU on a hardware adapter, else
 * the CPU (a software adapter such as llvmpipe is slower than the CPU backend).
 */
export async function resolveAutoBackend(): Promise<{ backend: "cpu" | "webgpu"; why: string }> {
  const info = await webGpuAdapterInfo();
  if (!info) return { backend: "cpu", why: "no WebGPU adapter" };
  if (info.fallback) {
    return { backend: "cpu", why: `WebGPU adapter "${info.name}" is a software fallback` };
  }
  return { backend: "webgpu", why: `WebGPU adapter "${info.name}"` };
}
