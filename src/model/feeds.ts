/**
 * The step contract's inputs as runtime tensors, shared by the onnxruntime-node and
 * onnxruntime-web backends (each passes its own package's Tensor class).
 * @module
 */
import type { StepInputs } from "./ar_model.ts";
import type { ModelManifest } from "./manifest.ts";
import { ManifestError } from "../util/errors.ts";
import { HEAD_INPUTS, HEAD_OUTPUT, HEAD_VALUES } from "./sampling_head.ts";

/** The Tensor constructor shape both onnxruntime packages share. */
export type TensorConstructor<T> = new (
  type: "int64" | "bool",
  data: BigInt64Array | Uint8Array,
  dims: readonly number[],
) => T;

/** The contract's past-cache input names, layer by layer. */
export interface PastNames {
  keyNames: string[];
  valueNames: string[];
}

/**
 * `input_ids`, `position_ids` and `attention_mask` plus the past keys/values, keyed by the
 * contract's input names, for a cache of `cache.batch` rows holding `cache.length` slots. Throws
 * when the step's batch is not the cache's.
 */
export function stepFeeds<T>(
  Tensor: TensorConstructor<T>,
  inputs: StepInputs,
  cache: { batch: number; length: number },
  names: PastNames,
  past: { keys: T[]; values: T[] },
): Record<string, T> {
  const { batch, length } = inputs;
  if (batch !== cache.batch) {
    throw new Error(`step batch ${batch} differs from the cache's ${cache.batch}`);
  }
  const feeds: Record<string, T> = {
    input_ids: new Tensor("int64", inputs.inputIds, [batch, length]),
    position_ids: new Tensor("int64", inputs.positionIds, [batch, length]),
    attention_mask: new Tensor("bool", inputs.attentionMask, [
      batch,
      1,
      length,
      cache.length + length,
    ]),
  };
  for (let i = 0; i < past.keys.length; i++) {
    feeds[names.keyNames[i]] = past.keys[i];
    feeds[names.valueNames[i]] = past.values[i];
  }
  return feeds;
}

/**
 * A graph's cache output names, layer by layer: `present.<i>.key|value` (the contract's grown
 * cache) or, with `kind` "new", `new.<i>.key|value` (this step's keys and values alone).
 */
export function presentOutputNames(layers: number, kind: "present" | "new" = "present"): string[] {
  return Array.from({ length: layers }, (_, i) => [`${kind}.${i}.key`, `${kind}.${i}.value`])
    .flat();
}

/** The contract's past-cache input names of a model with `layers` layers. */
export function pastInputNames(layers: number): PastNames {
  return {
    keyNames: Array.from({ length: layers }, (_, i) => `past.${i}.key`),
    valueNames: Array.from({ length: layers }, (_, i) => `past.${i}.value`),
  };
}

/** A graph input or output as both onnxruntime packages describe it (`inputMetadata`). */
export interface ValueInfo {
  /** The input or output name. */
  readonly name: string;
  /** False for sequences and maps. */
  readonly isTensor: boolean;
  /** Element type (tensors only), e.g. `int64`, `float32`. */
  readonly type?: string;
  /** Declared shape (tensors only): numbers for fixed axes, strings for symbolic ones; [] unknown. */
  readonly shape?: ReadonlyArray<number | string>;
}

/** What {@link checkContract} reads off a loaded session (both runtimes have these). */
export interface GraphSignature {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Absent on runtimes that do not report it; then only names are checked. */
  readonly inputMetadata?: readonly ValueInfo[];
  readonly outputMetadata?: readonly ValueInfo[];
}

const CONTRACT_FIX = "Fix: export the model with python/ (python -m python.export), which " +
  "writes the step contract, or correct the manifest";

function graphOf(manifest: ModelManifest): string {
  return `${manifest.onnx} (manifest ${manifest.name})`;
}

/** `[batch, kvHeads, slots, headDim]` with the manifest's numbers, for messages. */
function cacheShape(m: ModelManifest, slots: string): string {
  return `[batch, ${m.kvHeads}, ${slots}, ${m.headDim}]`;
}

/**
 * The step contract at load, from the graph's declared inputs and outputs: every input the
 * contract feeds (`input_ids`, `position_ids`, `attention_mask`, `past.<i>.key|value` for the
 * manifest's layers) and nothing else; every output it reads (`logits`, `present.<i>.key|value`);
 * and, where the runtime reports them, their element types (int64 ids and positions, a bool
 * mask, caches in the manifest's `compute` dtype, float32 logits), ranks and fixed axes (the
 * vocabulary, kv heads, head width).
 * A manifest with `samplingHead` adds the head's inputs and `tokens` output (src/model/
 * sampling_head.ts), which the graph must then have, and must not have otherwise.
 * Throws a {@link ManifestError} naming the graph, the manifest and what differs.
 */
export function checkContract(graph: GraphSignature, manifest: ModelManifest): void {
  const m = manifest;
  const where = graphOf(m);
  const { keyNames, valueNames } = pastInputNames(m.layers);
  // `cache: "new"` graphs return this step's keys/values (`new.*`) instead of the grown cache.
  const presentNames = presentOutputNames(m.layers, m.cache);
  checkHeadNames(graph, m, where);
  const head = m.samplingHead;
  const wantIn = [
    "input_ids",
    "position_ids",
    "attention_mask",
    ...keyNames,
    ...valueNames,
    ...(head ? HEAD_INPUTS : []),
  ];
  const wantOut = ["logits", ...presentNames, ...(head ? [HEAD_OUTPUT] : [])];
  const missingIn = wantIn.filter((n) => !graph.inputNames.includes(n));
  const missingOut = wantOut.filter((n) => !graph.outputNames.includes(n));
  const extraIn = graph.inputNames.filter((n) => !wantIn.includes(n));
  const layersSaid = `the manifest says ${m.layers} layer${m.layers === 1 ? "" : "s"}`;
  if (missingIn.length) {
    throw new ManifestError(
      `${where}: the graph lacks input${missingIn.length > 1 ? "s" : ""} ${
        missingIn.join(", ")
      } (${layersSaid}). ${CONTRACT_FIX}`,
    );
  }
  if (missingOut.length) {
    throw new ManifestError(
      `${where}: the graph lacks output${missingOut.length > 1 ? "s" : ""} ${
        missingOut.join(", ")
      } (${layersSaid}; a step returns its logits and the grown cache). ${CONTRACT_FIX}`,
    );
  }
  if (extraIn.length) {
    throw new ManifestError(
      `${where}: the graph needs input${extraIn.length > 1 ? "s" : ""} ${
        extraIn.join(", ")
      }, which the step contract does not feed (${layersSaid}). ${CONTRACT_FIX}`,
    );
  }
  type Want = { type: string; shape: (number | null)[]; say: string };
  const cache: Want = {
    type: m.compute,
    shape: [null, m.kvHeads, null, m.headDim],
    say: cacheShape(m, "slots"),
  };
  const wants: Record<string, Want> = {
    input_ids: { type: "int64", shape: [null, null], say: "[batch, slots]" },
    position_ids: { type: "int64", shape: [null, null], say: "[batch, slots]" },
    attention_mask: { type: "bool", shape: [null, 1, null, null], say: "[batch, 1, slots, total]" },
    logits: {
      type: "float32",
      shape: [null, null, m.vocabSize],
      say: `[batch, slots, ${m.vocabSize}]`,
    },
  };
  for (const n of [...keyNames, ...valueNames, ...presentNames]) wants[n] = cache;
  if (head) Object.assign(wants, HEAD_VALUES);
  const check = (info: ValueInfo, kind: "input" | "output") => {
    const want = wants[info.name];
    if (!want) return;
    if (!info.isTensor) {
      throw new ManifestError(`${where}: ${kind} "${info.name}" is not a tensor. ${CONTRACT_FIX}`);
    }
    if (info.type !== undefined && info.type !== want.type) {
      const ids = info.name === "input_ids" || info.name === "position_ids";
      throw new ManifestError(
        `${where}: ${kind} "${info.name}" is ${info.type}, but the step contract ${
          kind === "input" ? "feeds" : "reads"
        } ${want.type}${ids ? " ids" : ""}. ${
          ids ? "Fix: export with int64 ids (python/ export does)" : CONTRACT_FIX
        }`,
      );
    }
    const shape = info.shape ?? [];
    if (shape.length === 0) return; // not declared
    const bad = shape.length !== want.shape.length ||
      shape.some((d, i) =>
        typeof d === "number" && d >= 0 && want.shape[i] !== null && d !== want.shape[i]
      );
    if (bad) {
      throw new ManifestError(
        `${where}: ${kind} "${info.name}" is declared [${shape.join(", ")}], but the manifest ` +
          `asks for ${want.say}. Fix: the graph and the manifest do not belong together; ` +
          "re-export both",
      );
    }
  };
  for (const info of graph.inputMetadata ?? []) check(info, "input");
  for (const info of graph.outputMetadata ?? []) check(info, "output");
}

/**
 * The sampling head's names against the manifest's `samplingHead`, before the generic checks so
 * the message says which side lacks the head.
 */
function checkHeadNames(graph: GraphSignature, m: ModelManifest, where: string): void {
  const present = [...HEAD_INPUTS, HEAD_OUTPUT].filter((n) =>
    graph.inputNames.includes(n) || graph.outputNames.includes(n)
  );
  if (m.samplingHead && present.length < HEAD_INPUTS.length + 1) {
    const missing = [...HEAD_INPUTS, HEAD_OUTPUT].filter((n) => !present.includes(n));
    throw new ManifestError(
      `${where}: the manifest says samplingHead: true, but the graph lacks the sampling head's ${
        missing.join(", ")
      }. Fix: re-export the model with python -m python.export --sampling-head, or drop ` +
        "samplingHead from the manifest",
    );
  }
  if (!m.samplingHead && present.length > 0) {
    throw new ManifestError(
      `${where}: the graph has a sampling head (${
        present.join(", ")
      }), which the manifest does not declare. Fix: add "samplingHead": true to the manifest ` +
        "(python -m python.export --sampling-head writes it), or export the model without " +
        "--sampling-head",
    );
  }
}

/** A step output as both runtimes return it. */
export interface OutputTensor {
  readonly type: string;
  readonly dims: readonly number[];
}

/**
 * The step contract on the way out of one step: `logits` is float32 `[batch, slots, vocabSize]`
 * and every `present.<i>.key|value` is `[batch, kvHeads, past + slots, headDim]`; a graph whose
 * logits are narrower or wider than the manifest's vocabulary is a {@link ManifestError} naming
 * the graph and the manifest. Cheap (dims only); every step runs it. `logitsFetched` false: the
 * step drew in the graph and did not fetch its logits, which are then not checked.
 */
export function checkStepOutputs(
  out: Readonly<Record<string, OutputTensor | undefined>>,
  manifest: ModelManifest,
  inputs: Pick<StepInputs, "batch" | "length">,
  pastLength: number,
  cacheOutputs: "present" | "new" = "present",
  logitsFetched = true,
): void {
  const { batch, length } = inputs;
  if (logitsFetched) checkLogitsOutput(out.logits, manifest, batch, length);
  checkCacheOutputs(out, manifest, pastLength + length, batch, cacheOutputs);
}

/** The `logits` output of one step: float32 `[batch, length, vocabSize]`. */
function checkLogitsOutput(
  logits: OutputTensor | undefined,
  m: ModelManifest,
  batch: number,
  length: number,
): void {
  const where = graphOf(m);
  if (!logits) {
    throw new ManifestError(`${where}: the step returned no "logits" output. ${CONTRACT_FIX}`);
  }
  const [b, t, v] = logits.dims;
  if (logits.dims.length === 3 && b === batch && t === length && v !== m.vocabSize) {
    throw new ManifestError(
      `${where}: the graph's logits are ${v} wide, ${
        v < m.vocabSize ? "narrower" : "wider"
      } than the manifest's vocabSize ${m.vocabSize}. Fix: the graph and the manifest do not ` +
        "belong together; re-export both (or correct vocabSize)",
    );
  }
  if (logits.dims.length !== 3 || b !== batch || t !== length || logits.type !== "float32") {
    throw new ManifestError(
      `${where}: the step returned ${logits.type} logits of shape [${
        logits.dims.join(", ")
      }], expected float32 [${batch}, ${length}, ${m.vocabSize}] (batch, slots, vocabSize). ` +
        CONTRACT_FIX,
    );
  }
}

/** Every `<cacheOutputs>.<i>.key|value` output of one step: `[batch, kvHeads, total, headDim]`. */
function checkCacheOutputs(
  out: Readonly<Record<string, OutputTensor | undefined>>,
  m: ModelManifest,
  total: number,
  batch: number,
  cacheOutputs: "present" | "new",
): void {
  const where = graphOf(m);
  const want = [batch, m.kvHeads, total, m.headDim];
  for (let i = 0; i < m.layers; i++) {
    for (const part of ["key", "value"]) {
      const name = `${cacheOutputs}.${i}.${part}`;
      const t = out[name];
      if (!t) {
        throw new ManifestError(`${where}: the step returned no "${name}" output. ${CONTRACT_FIX}`);
      }
      if (t.dims.length !== 4 || t.dims.some((d, k) => d !== want[k])) {
        throw new ManifestError(
          `${where}: the step returned "${name}" of shape [${t.dims.join(", ")}], expected [${
            want.join(", ")
          }] (batch, kvHeads, past + slots, headDim). Fix: the graph and the manifest do not ` +
            "belong together; re-export both",
        );
      }
    }
  }
}

/**
 * Throw a {@link ManifestError} when `logits` (`[batch, slots, V]`) hold NaN or +Infinity, or a
 * row with no finite value: sampling from them would draw garbage. Names the row and slot, and
 * `step`, the step's number on its cache.
 */
export function checkFiniteLogits(
  logits: Float32Array,
  manifest: ModelManifest,
  inputs: Pick<StepInputs, "batch" | "length">,
  step: number,
): void {
  const V = manifest.vocabSize;
  const rows = inputs.batch * inputs.length;
  for (let r = 0; r < rows; r++) {
    let finite = false;
    const base = r * V;
    for (let v = 0; v < V; v++) {
      const x = logits[base + v];
      if (x !== x || x === Infinity) {
        throw new ManifestError(
          `${graphOf(manifest)}: step ${step} returned a ${
            x !== x ? "NaN" : "+Infinity"
          } logit (batch row ${Math.floor(r / inputs.length)}, slot ${r % inputs.length}, ` +
            `token ${v}). Fix: the graph computes non-finite values; check its export (fp16 ` +
            "overflow is a common cause) and its weights",
        );
      }
      if (x > -Infinity) finite = true;
    }
    if (!finite) {
      throw new ManifestError(
        `${graphOf(manifest)}: step ${step} returned logits that are all -Infinity (batch row ${
          Math.floor(r / inputs.length)
        }, slot ${r % inputs.length}). Fix: the graph masks every token; check its export`,
      );
    }
  }
}

/**
 * A cache tensor's element array: a `Float32Array` for float32 caches; the raw half-precision
 * bits, a `Uint16Array`, for float16 caches (`compute: "float16"`), which both onnxruntime
 * packages accept for "float16" (see {@link cacheArray}).
 */
export type CacheArray = Float32Array | Uint16Array;

/**
 * A CPU cache tensor's data as a {@link CacheArray}: float16 data becomes a `Uint16Array` view
 * of the same bytes. onnxruntime returns float16 outputs as `Float16Array` where the engine has
 * one (Deno does), which its type declarations do not name; the bits copy exactly either way.
 */
export function cacheArray(tensor: { type: string; data: unknown }): CacheArray {
  if (tensor.type === "float32") return tensor.data as Float32Array;
  if (tensor.type !== "float16") {
    throw new TypeError(`a KV cache tensor is ${tensor.type}; expected float32 or float16`);
  }
  const d = tensor.data as ArrayBufferView & { length: number };
  return new Uint16Array(d.buffer, d.byteOffset, d.length);
}

/**
 * The element type and an empty `[batch, kvHeads, 0, headDim]` array of a model's KV cache
 * tensors: the manifest's `compute` dtype (the graph declares its past/present caches in it and
 * `checkContract` holds it to that).
 */
export function emptyCacheData(
  manifest: Pick<ModelManifest, "compute">,
): { type: "float32" | "float16"; data: CacheArray } {
  return manifest.compute === "float16"
    ? { type: "float16", data: new Uint16Array(0) }
    : { type: "float32", data: new Float32Array(0) };
}

/**
 * The first `keep` of `past` slots of a `[rows, past, headDim]` cache tensor (rows = batch x kv
 * heads), as a new `[rows, keep, headDim]` array of the same kind (float32, or float16 bits):
 * the CPU half of `truncate()`.
 */
export function keepSlots<A extends CacheArray>(
  data: A,
  rows: number,
  past: number,
  keep: number,
  headDim: number,
): A {
  // the same constructor keeps the element type: float16 bits are copied, never rounded
  const out = new (data.constructor as new (length: number) => A)(rows * keep * headDim);
  for (let r = 0; r < rows; r++) {
    out.set(data.subarray(r * past * headDim, (r * past + keep) * headDim), r * keep * headDim);
  }
  return out;
}
