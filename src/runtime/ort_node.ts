/**
 * onnxruntime-node sessions (CPU, and CUDA where its provider libraries are installed), with the
 * provider checks and one-line errors every ONNX consumer shares.
 * @module
 */
import { loadOrtNode, type OrtNode, ortNodeBinaryDir, type OrtNodeTypes } from "../deps/ort.ts";
import { ManifestError } from "../util/errors.ts";
import { type LoadLimits, readReferencedFile, type ReferencedFile } from "./files.ts";

/** The provider libraries CUDA needs beside onnxruntime-node's binding (Linux). */
const CUDA_LIBRARIES = ["libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"];

/**
 * The CUDA provider libraries missing from onnxruntime-node's binary folder (empty when all are
 * there). npm's install script downloads them; Deno skips install scripts. onnxruntime-node
 * ships CUDA for Linux only, so elsewhere all of them are missing.
 */
export function missingCudaLibraries(): string[] {
  if (Deno.build.os !== "linux") return CUDA_LIBRARIES;
  let dir: URL;
  try {
    dir = ortNodeBinaryDir();
  } catch {
    return CUDA_LIBRARIES;
  }
  return CUDA_LIBRARIES.filter((name) => {
    try {
      return !Deno.statSync(new URL(name, dir)).isFile;
    } catch {
      return true;
    }
  });
}

/**
 * True when the installed onnxruntime-node can run the CUDA execution provider: it lists CUDA
 * and the provider libraries are on disk.
 */
export async function cudaAvailable(): Promise<boolean> {
  if (missingCudaLibraries().length > 0) return false;
  try {
    const ort = await loadOrtNode();
    return ort.listSupportedBackends().some((b: { name: string }) => b.name === "cuda");
  } catch {
    return false;
  }
}

const NO_CUDA =
  "executionProvider cuda: this onnxruntime-node has no usable CUDA provider (its install " +
  "script, which Deno skips, downloads the CUDA libraries). Fix: use cpu or the webgpu backend, or run " +
  "`npm install onnxruntime-node@1.30.0` on a CUDA machine and point Deno at that node_modules";

/** Options of {@link createNodeSession}. */
export interface NodeSessionOptions {
  /** Execution provider: `cpu` (default) or `cuda`. */
  provider?: "cpu" | "cuda";
  /** Intra-op threads (default: the runtime's choice, all cores). */
  threads?: number;
  /** Graph optimisation level (default `all`). */
  graphOptimization?: "disabled" | "basic" | "extended" | "all";
  /**
   * Write onnxruntime's per-operator profile: a JSON file `<prefix>_<date>.json`, finished when
   * the session ends (`endProfiling`). For bench/floor.ts's breakdown.
   */
  profilePrefix?: string;
}

/**
 * An onnxruntime-node session on graph bytes; a graph the runtime rejects, or a CUDA provider
 * that is not there, is a {@link ManifestError} naming `file` and the fix.
 */
export async function createNodeSession(
  bytes: Uint8Array,
  file: string,
  options: NodeSessionOptions = {},
): Promise<{ ort: OrtNode; session: OrtNodeTypes.InferenceSession }> {
  const ort = await loadOrtNode();
  const provider = options.provider ?? "cpu";
  if (provider === "cuda") {
    // Checked here rather than left to the runtime: its failed dlopen prints a multi-line native
    // log, and a CI test process that took that path once crashed at exit; keep it out.
    const missing = missingCudaLibraries();
    if (missing.length > 0) throw new ManifestError(`${NO_CUDA} (missing: ${missing.join(", ")})`);
  }
  // Any other CUDA failure is reported below in one line; keep the runtime's own log quiet.
  const logLevel = ort.env.logLevel;
  if (provider === "cuda") ort.env.logLevel = "fatal";
  try {
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: [provider],
      graphOptimizationLevel: options.graphOptimization ?? "all",
      ...(options.profilePrefix
        ? { enableProfiling: true, profileFilePrefix: options.profilePrefix }
        : {}),
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    });
    return { ort, session };
  } catch (err) {
    if (provider === "cuda") {
      throw new ManifestError(`${NO_CUDA} (${(err as Error).message.split("\n")[0]})`);
    }
    throw new ManifestError(
      `${file}: onnxruntime cannot load it (${
        (err as Error).message.split("\n")[0]
      }). Fix: re-export it`,
    );
  } finally {
    ort.env.logLevel = logLevel;
  }
}

/**
 * Read the graph a manifest at `base` references (confined, size-limited, sha256-checked; see
 * `readReferencedFile`) and open it with onnxruntime-node: what every CPU consumer of a
 * manifest-described graph (feature extractor, VQ tokenizer) does.
 */
export async function openReferencedGraph(
  base: URL,
  ref: ReferencedFile,
  limits: LoadLimits & NodeSessionOptions = {},
): Promise<{ ort: OrtNode; session: OrtNodeTypes.InferenceSession }> {
  const bytes = await readReferencedFile(base, ref, limits);
  return await createNodeSession(bytes, ref.file, limits);
}
