/**
 * How much memory a model will take, said before loading it: a 1.4 GB graph is not something to
 * discover by running out of memory.
 * @module
 */
import type { ModelManifest } from "./manifest.ts";

/**
 * Resident memory onnxruntime-node took per byte of an fp32 graph file, measured: PAR-L's shape
 * (1.37 GB fp32 graph, 24 layers x 1024) peaked at 3.65 GB while sampling one picture with
 * guidance (2026-11-27, this repository's CPU machine), i.e. about 2.7x including the Deno
 * process itself. fp16-stored graphs are cast to fp32 inside the graph, so they take about the
 * fp32 figure too.
 */
const RESIDENT_PER_FP32_BYTE = 2.7;

/** A memory estimate with its parts, in bytes. */
export interface MemoryEstimate {
  /** The weights as onnxruntime holds them, and the process around them. */
  weights: number;
  /** The KV cache of `rows` sequences of the whole grid. */
  kvCache: number;
  /** Both. */
  total: number;
}

/**
 * Estimate the memory to sample `rows` sequences (images, doubled with guidance) with a model
 * whose graph files take `graphBytes` on disk.
 * @example
 * estimateModelMemory(manifest, 1_371_846_264, 2).total; // about 3.8e9
 */
export function estimateModelMemory(
  manifest: Pick<ModelManifest, "dtype" | "layers" | "kvHeads" | "headDim" | "grid" | "numClasses">,
  graphBytes: number,
  rows: number,
): MemoryEstimate {
  const fp32Bytes = manifest.dtype === "float16" ? graphBytes * 2 : graphBytes;
  const weights = fp32Bytes * RESIDENT_PER_FP32_BYTE;
  const g = manifest.grid;
  const slots = (g.frames ?? 1) * g.height * g.width + 32; // cells, class and transition slots
  const kvCache = 2 * manifest.layers * manifest.kvHeads * manifest.headDim * slots * rows * 4;
  return { weights, kvCache, total: weights + kvCache };
}
