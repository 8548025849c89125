/**
 * onnxruntime-node implementation of {@link ARModel}: loads `.onnx` + manifest from a path, a
 * `file:` or an `https:` URL, checks the sha256, and runs steps on the CPU (or CUDA where the
 * installed onnxruntime-node has that provider).
 * @module
 */
import type { OrtNode, OrtNodeTypes } from "../deps/ort.ts";
import { createNodeSession } from "../runtime/ort_node.ts";
import { type LoadLimits, readManifestJson, readReferencedFile } from "../runtime/files.ts";
import type { ARModel, KVCache, StepInputs, StepOutput } from "./ar_model.ts";
import {
  checkContract,
  checkFiniteLogits,
  checkStepOutputs,
  keepSlots,
  pastInputNames,
  type PastNames,
  stepFeeds,
  type TensorConstructor,
} from "./feeds.ts";
import { type ModelManifest, parseModelManifest } from "./manifest.ts";
import { referenceLimits } from "./fixtures.ts";

/**
 * Options of {@link loadOnnxModel}; the {@link LoadLimits} (timeout, sizes, `allowOutside`)
 * bound the reads of the manifest and the graph.
 */
export interface OnnxLoadOptions extends LoadLimits {
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
  /** Steps run on this cache (for messages). */
  steps = 0;
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
 * Read a model's ONNX bytes (confined to the manifest's folder or origin, within `limits`) and
 * check them against the manifest's sha256 and declared size while they stream in.
 */
export function readModelGraph(
  manifest: ModelManifest,
  url: URL,
  skipHashCheck = false,
  limits: LoadLimits = {},
): Promise<Uint8Array> {
  return readReferencedFile(url, {
    file: manifest.onnx,
    field: "onnx",
    sha256: skipHashCheck ? undefined : manifest.sha256,
    bytes: manifest.bytes,
    fix: "the .onnx and its manifest do not belong together; re-export both",
  }, referenceLimits(url, limits));
}

/**
 * Read and validate a model manifest. `location` is the manifest (`.json`) or the `.onnx`
 * beside it (then `<name>.json` is read); at most `limits.maxManifestBytes` (16 MiB) are read.
 */
export async function loadManifest(
  location: string | URL,
  limits: LoadLimits = {},
): Promise<{ manifest: ModelManifest; url: URL }> {
  const { json, url, name } = await readManifestJson(location, limits);
  return { manifest: parseModelManifest(json, name), url };
}

/** The {@link LoadLimits} part of a load's options, kept on the model for its tokenizer. */
export function limitsOf(options: LoadLimits): LoadLimits {
  const { timeoutMs, maxBytes, maxManifestBytes, allowOutside, root } = options;
  return { timeoutMs, maxBytes, maxManifestBytes, allowOutside, root };
}

/**
 * Load an ONNX step model with onnxruntime-node. The graph's declared inputs and outputs are
 * checked against the step contract and the manifest (see `checkContract`), and every step's
 * outputs on the way out.
 * @example
 * const model = await loadOnnxModel("fixtures/models/tiny-par4.json");
 * const cache = model.newCache(2);
 */
export async function loadOnnxModel(
  location: string | URL,
  options: OnnxLoadOptions = {},
): Promise<ARModel> {
  const limits = limitsOf(options);
  const { manifest, url } = await loadManifest(location, limits);
  const bytes = await readModelGraph(manifest, url, options.skipHashCheck, limits);
  const provider = options.executionProvider ?? "cpu";
  const created = await createNodeSession(bytes, manifest.onnx, {
    provider,
    threads: options.threads,
    graphOptimization: options.graphOptimization,
  });
  ort = created.ort;
  const session = created.session;
  try {
    checkContract(session, manifest);
  } catch (err) {
    await session.release();
    throw err;
  }
  return new OnnxNodeModel(manifest, url, session, provider, limits);
}

class OnnxNodeModel implements ARModel {
  readonly manifest: ModelManifest;
  readonly source: URL;
  readonly backend: string;
  readonly backendName: "cpu" | "cuda";
  readonly loadLimits: LoadLimits;
  readonly #session: OrtNodeTypes.InferenceSession;
  readonly #names: PastNames;

  constructor(
    manifest: ModelManifest,
    source: URL,
    session: OrtNodeTypes.InferenceSession,
    provider: "cpu" | "cuda",
    limits: LoadLimits,
  ) {
    this.manifest = manifest;
    this.loadLimits = limits;
    this.source = source;
    this.#session = session;
    this.backend = `onnxruntime-node ${provider}`;
    this.backendName = provider;
    this.#names = pastInputNames(manifest.layers);
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
    checkStepOutputs(out as Record<string, OrtTensor>, this.manifest, inputs, c.length);
    const logits = out.logits.data as Float32Array;
    checkFiniteLogits(logits, this.manifest, inputs, c.steps);
    for (let i = 0; i < this.manifest.layers; i++) {
      c.keys[i] = out[`present.${i}.key`] as OrtTensor;
      c.values[i] = out[`present.${i}.value`] as OrtTensor;
    }
    c.length += inputs.length;
    c.steps++;
    return { logits, modelSeconds };
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
