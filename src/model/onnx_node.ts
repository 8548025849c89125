/**
 * onnxruntime-node implementation of {@link ARModel}: loads `.onnx` + manifest from a path, a
 * `file:` or an `https:` URL, checks the sha256, and runs steps on the CPU (or CUDA where the
 * installed onnxruntime-node has that provider).
 * @module
 */
import { loadOrtNode, type OrtNode, ortNodeBinaryDir, type OrtNodeTypes } from "../deps.ts";
import type { ARModel, KVCache, StepInputs, StepOutput } from "./ar_model.ts";
import {
  checkContractInputs,
  keepSlots,
  pastInputNames,
  type PastNames,
  stepFeeds,
  type TensorConstructor,
} from "./feeds.ts";
import { ManifestError, type ModelManifest, parseModelManifest } from "./manifest.ts";
import { readBytes, toUrl } from "../io/read.ts";
import { sha256Mismatch } from "../io/hash.ts";

/** Options of {@link loadOnnxModel}. */
export interface OnnxLoadOptions {
  /** Execution provider: `cpu` (default) or `cuda` (needs onnxruntime-node's CUDA files). */
  executionProvider?: "cpu" | "cuda";
  /** Intra-op threads (default: the runtime's choice, all cores). */
  threads?: number;
  /** Graph optimisation level (default `all`). */
  graphOptimization?: "disabled" | "basic" | "extended" | "all";
  /** Skip the sha256 check of the ONNX file against the manifest (default false). */
  skipHashCheck?: boolean;
}

type OrtTensor = OrtNodeTypes.Tensor;

/** The loaded onnxruntime-node module; set by {@link loadOnnxModel} before any model exists. */
let ort: OrtNode;

/** The onnxruntime-node cache: one tensor per layer for keys and one for values. */
class OrtCache implements KVCache {
  readonly batch: number;
  length = 0;
  keys: OrtTensor[];
  values: OrtTensor[];

  constructor(batch: number, layers: number, kvHeads: number, headDim: number) {
    this.batch = batch;
    const empty = () =>
      new ort.Tensor("float32", new Float32Array(0), [batch, kvHeads, 0, headDim]);
    this.keys = Array.from({ length: layers }, empty);
    this.values = Array.from({ length: layers }, empty);
  }
}

/**
 * The bytes of a model file at a path or `file:` / `http(s):` URL; a failure is a
 * {@link ManifestError} that names the file and the fix.
 */
export async function readModelBytes(url: URL): Promise<Uint8Array> {
  try {
    return await readBytes(url);
  } catch (err) {
    throw new ManifestError(`${(err as Error).message}. Fix: check the path or URL`);
  }
}

/** Throw a {@link ManifestError} when `bytes` do not hash to the manifest's sha256. */
export async function checkModelHash(bytes: Uint8Array, manifest: ModelManifest): Promise<void> {
  const fix = "the .onnx and its manifest do not belong together; re-export both";
  const mismatch = await sha256Mismatch(bytes, manifest.onnx, manifest.sha256, fix);
  if (mismatch) throw new ManifestError(mismatch);
}

/**
 * Read and validate a model manifest. `location` is the manifest (`.json`) or the `.onnx`
 * beside it (then `<name>.json` is read).
 */
export async function loadManifest(
  location: string | URL,
): Promise<{ manifest: ModelManifest; url: URL }> {
  let url = toUrl(location);
  if (url.pathname.endsWith(".onnx")) url = new URL(url.href.replace(/\.onnx$/, ".json"));
  const text = new TextDecoder().decode(await readModelBytes(url));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(
      `${url.pathname}: not valid JSON (${(err as Error).message}). Fix: re-export the model`,
    );
  }
  return { manifest: parseModelManifest(json, url.pathname.split("/").at(-1)!), url };
}

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
    ort = await loadOrtNode();
    return ort.listSupportedBackends().some((b: { name: string }) => b.name === "cuda");
  } catch {
    return false;
  }
}

const NO_CUDA =
  "executionProvider cuda: this onnxruntime-node has no usable CUDA provider (its install " +
  "script, which Deno skips, downloads the CUDA libraries). Fix: use cpu or the webgpu backend, or run " +
  "`npm install onnxruntime-node@1.30.0` on a CUDA machine and point Deno at that node_modules";

/**
 * Load an ONNX step model with onnxruntime-node.
 * @example
 * const model = await loadOnnxModel("fixtures/models/tiny-par4.json");
 * const cache = model.newCache(2);
 */
export async function loadOnnxModel(
  location: string | URL,
  options: OnnxLoadOptions = {},
): Promise<ARModel> {
  ort = await loadOrtNode();
  const { manifest, url } = await loadManifest(location);
  const onnxUrl = new URL(manifest.onnx, url);
  const bytes = await readModelBytes(onnxUrl);
  if (!options.skipHashCheck) await checkModelHash(bytes, manifest);
  const provider = options.executionProvider ?? "cpu";
  if (provider === "cuda") {
    // Checked here rather than left to the runtime: its failed dlopen prints a multi-line native
    // log, and a CI test process that took that path once crashed at exit; keep it out.
    const missing = missingCudaLibraries();
    if (missing.length > 0) throw new ManifestError(`${NO_CUDA} (missing: ${missing.join(", ")})`);
  }
  let session: OrtNodeTypes.InferenceSession;
  // Any other CUDA failure is reported below in one line; keep the runtime's own log quiet.
  const logLevel = ort.env.logLevel;
  if (provider === "cuda") ort.env.logLevel = "fatal";
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: [provider],
      graphOptimizationLevel: options.graphOptimization ?? "all",
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    });
  } catch (err) {
    if (provider === "cuda") {
      throw new ManifestError(`${NO_CUDA} (${(err as Error).message.split("\n")[0]})`);
    }
    throw new ManifestError(
      `${manifest.onnx}: onnxruntime cannot load it (${
        (err as Error).message
      }). Fix: re-export the model`,
    );
  } finally {
    ort.env.logLevel = logLevel;
  }
  return new OnnxNodeModel(manifest, url, session, provider);
}

class OnnxNodeModel implements ARModel {
  readonly manifest: ModelManifest;
  readonly source: URL;
  readonly backend: string;
  readonly #session: OrtNodeTypes.InferenceSession;
  readonly #names: PastNames;

  constructor(
    manifest: ModelManifest,
    source: URL,
    session: OrtNodeTypes.InferenceSession,
    provider: string,
  ) {
    this.manifest = manifest;
    this.source = source;
    this.#session = session;
    this.backend = `onnxruntime-node ${provider}`;
    this.#names = pastInputNames(manifest.layers);
    checkContractInputs(session.inputNames, manifest);
  }

  newCache(batch: number): KVCache {
    const m = this.manifest;
    return new OrtCache(batch, m.layers, m.kvHeads, m.headDim);
  }

  async step(cache: KVCache, inputs: StepInputs): Promise<StepOutput> {
    const c = cache as OrtCache;
    const feeds = stepFeeds(
      ort.Tensor as unknown as TensorConstructor<OrtTensor>,
      inputs,
      c,
      this.#names,
      c,
    );
    const t0 = performance.now();
    const out = await this.#session.run(feeds);
    const modelSeconds = (performance.now() - t0) / 1000;
    for (let i = 0; i < this.manifest.layers; i++) {
      c.keys[i] = out[`present.${i}.key`] as OrtTensor;
      c.values[i] = out[`present.${i}.value`] as OrtTensor;
    }
    c.length += inputs.length;
    return { logits: out.logits.data as Float32Array, modelSeconds };
  }

  truncate(cache: KVCache, length: number): void {
    const c = cache as OrtCache;
    if (length < 0 || length > c.length) {
      throw new RangeError(`cannot truncate a cache of ${c.length} to ${length}`);
    }
    if (length === c.length) return;
    const slice = (t: OrtTensor) => {
      const [b, h, p, d] = t.dims as number[];
      return new ort.Tensor("float32", keepSlots(t.data as Float32Array, b * h, p, length, d), [
        b,
        h,
        length,
        d,
      ]);
    };
    c.keys = c.keys.map(slice);
    c.values = c.values.map(slice);
    c.length = length;
  }

  async dispose(): Promise<void> {
    await this.#session.release();
  }
}
