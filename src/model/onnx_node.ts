/**
 * onnxruntime-node implementation of {@link ARModel}: loads `.onnx` + manifest from a path, a
 * `file:` or an `https:` URL, checks the sha256, and runs steps on the CPU (or CUDA where the
 * installed onnxruntime-node has that provider).
 * @module
 */
import { loadOrtNode, type OrtNode, type OrtNodeTypes } from "../deps.ts";
import type { ARModel, KVCache, StepInputs, StepOutput } from "./ar_model.ts";
import { stepFeeds, type TensorConstructor } from "./feeds.ts";
import { ManifestError, type ModelManifest, parseModelManifest } from "./manifest.ts";

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

/** Resolve a path or URL string to a URL (relative paths against the working directory). */
function toUrl(location: string | URL): URL {
  if (location instanceof URL) return location;
  if (/^(file|https?):/.test(location)) return new URL(location);
  return new URL(location, `file://${Deno.cwd()}/`);
}

/** Read a model file from a `file:` or `http(s):` URL; errors name the path and the fix. */
export async function readBytes(url: URL): Promise<Uint8Array> {
  if (url.protocol === "file:") {
    try {
      return await Deno.readFile(url);
    } catch (err) {
      throw new ManifestError(
        `cannot read ${url.pathname}: ${(err as Error).message}. Fix: check the path`,
      );
    }
  }
  const res = await fetch(url);
  if (!res.ok) {
    throw new ManifestError(`cannot fetch ${url}: HTTP ${res.status}. Fix: check the URL`);
  }
  return new Uint8Array(await res.arrayBuffer());
}

/** Lowercase hex sha256 of `bytes`. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
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
  const text = new TextDecoder().decode(await readBytes(url));
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

/**
 * True when the installed onnxruntime-node lists the CUDA execution provider as bundled. A
 * listed but unbundled provider still needs its shared libraries, which npm's install script
 * downloads and Deno skips; {@link loadOnnxModel} reports that case clearly.
 */
export async function cudaAvailable(): Promise<boolean> {
  try {
    ort = await loadOrtNode();
    return ort.listSupportedBackends().some((b: { name: string; bundled: boolean }) =>
      b.name === "cuda" && b.bundled
    );
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
  const bytes = await readBytes(onnxUrl);
  if (!options.skipHashCheck) {
    const hash = await sha256Hex(bytes);
    if (hash !== manifest.sha256) {
      throw new ManifestError(
        `${manifest.onnx}: sha256 ${hash} differs from the manifest's ${manifest.sha256}. ` +
          "Fix: the .onnx and its manifest do not belong together; re-export both",
      );
    }
  }
  const provider = options.executionProvider ?? "cpu";
  let session: OrtNodeTypes.InferenceSession;
  // A missing CUDA library is reported below in one line; keep the runtime's own log quiet.
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
  readonly #keyNames: string[];
  readonly #valueNames: string[];

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
    this.#keyNames = Array.from({ length: manifest.layers }, (_, i) => `past.${i}.key`);
    this.#valueNames = Array.from({ length: manifest.layers }, (_, i) => `past.${i}.value`);
    const missing = [
      ...this.#keyNames,
      ...this.#valueNames,
      "input_ids",
      "position_ids",
      "attention_mask",
    ]
      .filter((n) => !session.inputNames.includes(n));
    if (missing.length) {
      throw new ManifestError(
        `${manifest.onnx}: the graph lacks inputs ${
          missing.join(", ")
        } (manifest says ${manifest.layers} layers). ` +
          "Fix: export with python/ under the step contract",
      );
    }
  }

  newCache(batch: number): KVCache {
    const m = this.manifest;
    return new OrtCache(batch, m.layers, m.kvHeads, m.headDim);
  }

  async step(cache: KVCache, inputs: StepInputs): Promise<StepOutput> {
    const c = cache as OrtCache;
    const { batch, length } = inputs;
    if (batch !== c.batch) {
      throw new Error(`step batch ${batch} differs from the cache's ${c.batch}`);
    }
    const feeds = stepFeeds(
      ort.Tensor as unknown as TensorConstructor<OrtTensor>,
      inputs,
      c.length,
      {
        keyNames: this.#keyNames,
        valueNames: this.#valueNames,
        keys: c.keys,
        values: c.values,
      },
    );
    const t0 = performance.now();
    const out = await this.#session.run(feeds);
    const modelSeconds = (performance.now() - t0) / 1000;
    for (let i = 0; i < this.manifest.layers; i++) {
      c.keys[i] = out[`present.${i}.key`] as OrtTensor;
      c.values[i] = out[`present.${i}.value`] as OrtTensor;
    }
    c.length += length;
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
      const src = t.data as Float32Array;
      const dst = new Float32Array(b * h * length * d);
      for (let bh = 0; bh < b * h; bh++) {
        dst.set(src.subarray(bh * p * d, bh * p * d + length * d), bh * length * d);
      }
      return new ort.Tensor("float32", dst, [b, h, length, d]);
    };
    c.keys = c.keys.map(slice);
    c.values = c.values.map(slice);
    c.length = length;
  }

  async dispose(): Promise<void> {
    await this.#session.release();
  }
}
