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
  type CacheArray,
  cacheArray,
  checkContract,
  checkFiniteLogits,
  checkStepOutputs,
  emptyCacheData,
  keepSlots,
  pastInputNames,
  type PastNames,
  presentOutputNames,
  stepFeeds,
  type TensorConstructor,
} from "./feeds.ts";
import { type ModelManifest, parseModelManifest } from "./manifest.ts";
import { referenceLimits } from "./fixtures.ts";
import { ArenaCache } from "./kv_arena.ts";
import { drawResult, headFeeds, type HeadTensorConstructor, stepFetches } from "./sampling_head.ts";

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
  /** Profile every operator to `<prefix>_<date>.json`, written at `dispose()` (benchmarks). */
  profilePrefix?: string;
}

type OrtTensor = OrtNodeTypes.Tensor;

/** The loaded onnxruntime-node module; set by {@link loadOnnxModel} before any model exists. */
let ort: OrtNode;

/**
 * A KV-cache input tensor for onnxruntime-node: float32 data as it is; float16 data (the raw
 * bits, a {@link CacheArray} `Uint16Array`) so that the native binding receives a `Uint16Array`.
 * Why: onnxruntime-common turns a float16 tensor's `Uint16Array` into a `Float16Array` view
 * wherever the engine has that class (Deno does), and Deno's Node-API reports a `Float16Array`
 * to the binding as holding no bytes, so every non-empty float16 input fails in the runtime with
 * "not enough space: expected N, got 0" (measured: onnxruntime-node 1.30, Deno 2.9.6). The
 * binding reads the tensor's `data`, which returns the private `cpuData` field; setting it back
 * to the `Uint16Array` (same bytes, no copy) is what the binding accepts for float16.
 */
function cacheTensor(
  type: "float32" | "float16",
  data: CacheArray,
  dims: readonly number[],
): OrtTensor {
  const t = new ort.Tensor(type, data, dims);
  if (type === "float16" && !(t.data instanceof Uint16Array)) {
    (t as unknown as { cpuData: unknown }).cpuData = data;
    if (t.data !== data) {
      throw new Error(
        "onnxruntime-node: a float16 KV-cache tensor cannot be handed over as a Uint16Array " +
          "(the runtime's Tensor changed). Fix: run the fp16-compute model on --backend webgpu, " +
          "or export it with --compute float32",
      );
    }
  }
  return t;
}

/** A float16 step output fed back as the next step's input: see {@link cacheTensor}. */
function refeed(t: OrtTensor): OrtTensor {
  return t.type === "float16" ? cacheTensor("float16", cacheArray(t), t.dims) : t;
}

/** The onnxruntime-node cache: one tensor per layer for keys and one for values. */
class OrtCache implements KVCache {
  readonly batch: number;
  length = 0;
  /** Steps run on this cache (for messages). */
  steps = 0;
  keys: OrtTensor[];
  values: OrtTensor[];

  constructor(batch: number, manifest: ModelManifest) {
    this.batch = batch;
    const { layers, kvHeads, headDim } = manifest;
    const { type, data } = emptyCacheData(manifest);
    const empty = () => cacheTensor(type, data, [batch, kvHeads, 0, headDim]);
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
    profilePrefix: options.profilePrefix,
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
  /**
   * Whether the graph returns this step's keys and values (`new.*`, fused exports): then the
   * cache is an {@link ArenaCache} and the grown `present.*` are never fetched (onnxruntime-node
   * would copy the whole cache out every step). Traced exports have no `new.*`.
   */
  readonly #keepsCache: boolean;
  /** Per arena cache, the runtime tensors over its buffers (rebuilt when it grows). */
  readonly #pastTensors = new WeakMap<
    ArenaCache,
    { buffer: unknown; keys: OrtTensor[]; values: OrtTensor[] }
  >();

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
    this.#keepsCache = presentOutputNames(manifest.layers, "new")
      .every((n) => session.outputNames.includes(n));
  }

  newCache(batch: number, slots = 0): KVCache {
    const m = this.manifest;
    return this.#keepsCache
      ? new ArenaCache(batch, m.layers, m.kvHeads, m.headDim, m.compute, slots)
      : new OrtCache(batch, m);
  }

  async step(cache: KVCache, inputs: StepInputs): Promise<StepOutput> {
    if (cache instanceof ArenaCache) return await this.#arenaStep(cache, inputs);
    const c = cache as OrtCache;
    const feeds = stepFeeds(
      ort.Tensor as unknown as TensorConstructor<OrtTensor>,
      inputs,
      c,
      this.#names,
      c,
    );
    this.#addHeadFeeds(feeds, inputs);
    // Without a head every output is fetched, as before; with one, only what the step needs.
    const fetch = stepFetches(presentOutputNames(this.manifest.layers), inputs, c.steps === 0);
    const t0 = performance.now();
    const out = this.manifest.samplingHead
      ? await this.#session.run(feeds, fetch.names)
      : await this.#session.run(feeds);
    const modelSeconds = (performance.now() - t0) / 1000;
    checkStepOutputs(
      out as Record<string, OrtTensor>,
      this.manifest,
      inputs,
      c.length,
      "present",
      fetch.logits,
    );
    const logits = fetch.logits ? out.logits.data as Float32Array : new Float32Array(0);
    // The full scan once per cache; later steps: every draw checks its own logits for free (a
    // JavaScript draw's sum turns NaN; the graph's head marks such a slot's token -1).
    if (c.steps === 0) checkFiniteLogits(logits, this.manifest, inputs, c.steps);
    const drawn = drawResult(out as Record<string, OrtTensor>, this.manifest, inputs);
    for (let i = 0; i < this.manifest.layers; i++) {
      c.keys[i] = refeed(out[`present.${i}.key`] as OrtTensor);
      c.values[i] = refeed(out[`present.${i}.value`] as OrtTensor);
    }
    c.length += inputs.length;
    c.steps++;
    return { logits, modelSeconds, ...drawn };
  }

  /**
   * The sampling head's feeds (src/model/sampling_head.ts) when the graph has one: the step's
   * draw, or neutral ones; a draw asked of a model without the head throws there.
   */
  #addHeadFeeds(feeds: Record<string, OrtTensor>, inputs: StepInputs): void {
    if (!this.manifest.samplingHead && !inputs.draw) return;
    const Tensor = ort.Tensor as unknown as HeadTensorConstructor<OrtTensor>;
    Object.assign(feeds, headFeeds(Tensor, inputs, this.manifest));
  }

  /** A step on an {@link ArenaCache}: past = the whole buffers, padding masked; fetch `new.*`. */
  async #arenaStep(c: ArenaCache, inputs: StepInputs): Promise<StepOutput> {
    const T = inputs.length;
    const Tensor = ort.Tensor as unknown as TensorConstructor<OrtTensor>;
    // The past tensors wrap the arena's buffers, which change only when it grows.
    let past = this.#pastTensors.get(c);
    if (!past || past.buffer !== c.keys[0]) {
      const dims = c.pastDims;
      const wrap = (a: Float32Array | Uint16Array) => cacheTensor(c.dtype, a, dims);
      past = { buffer: c.keys[0], keys: c.keys.map(wrap), values: c.values.map(wrap) };
      this.#pastTensors.set(c, past);
    }
    const feeds = stepFeeds(
      Tensor,
      { ...inputs, attentionMask: c.widenMask(inputs.attentionMask, T) },
      { batch: c.batch, length: c.capacity },
      this.#names,
      past,
    );
    this.#addHeadFeeds(feeds, inputs);
    const fetch = stepFetches(
      presentOutputNames(this.manifest.layers, "new"),
      inputs,
      c.steps === 0,
    );
    const t0 = performance.now();
    const out = await this.#session.run(feeds, fetch.names);
    const modelSeconds = (performance.now() - t0) / 1000;
    checkStepOutputs(
      out as Record<string, OrtTensor>,
      this.manifest,
      inputs,
      0,
      "new",
      fetch.logits,
    );
    const logits = fetch.logits ? out.logits.data as Float32Array : new Float32Array(0);
    if (c.steps === 0) checkFiniteLogits(logits, this.manifest, inputs, c.steps);
    const drawn = drawResult(out as Record<string, OrtTensor>, this.manifest, inputs);
    const layers = Array.from({ length: this.manifest.layers }, (_, i) => i);
    c.append(
      layers.map((i) => cacheArray(out[`new.${i}.key`] as OrtTensor)),
      layers.map((i) => cacheArray(out[`new.${i}.value`] as OrtTensor)),
      T,
    );
    return { logits, modelSeconds, ...drawn };
  }

  truncate(cache: KVCache, length: number): void {
    if (cache instanceof ArenaCache) {
      cache.truncate(length);
      return;
    }
    const c = cache as OrtCache;
    if (length < 0 || length > c.length) {
      throw new RangeError(`cannot truncate a cache of ${c.length} to ${length}`);
    }
    if (length === c.length) return;
    const slice = (t: OrtTensor) => {
      const [b, h, p, d] = t.dims as number[];
      // float32, or float16 for an fp16-compute graph: the kept slots keep the tensor's type
      const type = t.type as "float32" | "float16";
      return cacheTensor(type, keepSlots(cacheArray(t), b * h, p, length, d), [b, h, length, d]);
    };
    c.keys = c.keys.map(slice);
    c.values = c.values.map(slice);
    c.length = length;
  }

  async dispose(): Promise<void> {
    // A profiling session writes its file here (a no-op otherwise).
    this.#session.endProfiling();
    await this.#session.release();
  }
}
