/**
 * An in-memory {@link ARModel} whose logits are a function of what each query slot attends to:
 * a model with a known distribution, for checking samplers (exactness tests, hand-computed
 * cases, teaching) without ONNX. It honours the step contract: the cache holds every fed slot,
 * the attention mask decides what a query sees, `truncate` drops slots. Like a raster-trained
 * transformer, the slot at position p predicts cell p + 1 (the class slot, position -1, cell 0).
 * @module
 */
import type { ARModel, KVCache, StepInputs, StepOutput } from "../model/ar_model.ts";
import { type ModelManifest, parseModelManifest } from "../model/manifest.ts";
import { cellCount, type Grid } from "../media/grid.ts";
import { raster } from "../schedule/builders.ts";
import type { Schedule } from "../schedule/schedule.ts";

/** What a query slot sees: the input of {@link FunctionModelOptions.logits}. */
export interface FunctionQuery {
  /** The cell it predicts: its position + 1 (0 for the class slot). */
  cell: number;
  /** The class it sees (null: the unconditional class, or none). */
  classIndex: number | null;
  /** For every cell, the token the query sees at that position, or -1: [cells]. */
  context: Int32Array;
  /** Batch row. */
  row: number;
}

/** Options of {@link functionModel}. */
export interface FunctionModelOptions {
  /** Manifest name (default `function-model`). */
  name?: string;
  /** Vocabulary size V. */
  vocab: number;
  /** Number of classes. */
  classes: number;
  /** The token grid. */
  grid: Grid;
  /** Logits [V] for one query. */
  logits: (query: FunctionQuery) => ArrayLike<number>;
  /** Trained schedule written into the manifest (default raster; null: none). */
  schedule?: Schedule | null;
}

/** The in-memory cache: every fed slot's id and position, per row. */
class FunctionCache implements KVCache {
  readonly batch: number;
  readonly ids: number[][];
  readonly positions: number[][];
  constructor(batch: number) {
    this.batch = batch;
    this.ids = Array.from({ length: batch }, () => []);
    this.positions = Array.from({ length: batch }, () => []);
  }
  get length(): number {
    return this.ids[0].length;
  }
}

/** A model from a logits function; `calls` counts its steps. */
export interface FunctionModel extends ARModel {
  /** Steps run so far (model calls). */
  calls: number;
}

/**
 * An in-memory model over `grid` whose logits `logits(query)` computes.
 * @example
 * const model = functionModel({
 *   vocab: 3, classes: 1, grid: makeGrid(2, 2),
 *   logits: ({ cell, context }) => [cell, context[0] === 1 ? 2 : 0, 0],
 * });
 */
export function functionModel(options: FunctionModelOptions): FunctionModel {
  const { vocab: V, classes, grid } = options;
  const C = cellCount(grid);
  const manifest: ModelManifest = parseModelManifest({
    format: "parlab-model/1",
    name: options.name ?? "function-model",
    onnx: "in-memory",
    sha256: "0".repeat(64),
    dtype: "float32",
    vocabSize: V,
    numClasses: classes,
    transitionTokens: 0,
    grid,
    layers: 1,
    heads: 1,
    kvHeads: 1,
    headDim: 1,
    dim: 1,
    schedule: options.schedule === undefined ? raster(grid) : options.schedule,
    sampling: { cfgScale: 1, cfgInterval: null, temperature: 1, topK: 0, topP: 1 },
    tokenizer: null,
  }, "functionModel");
  const model: FunctionModel = {
    manifest,
    source: new URL("memory:function-model"),
    backend: "in-memory function",
    backendName: "cpu",
    calls: 0,
    newCache: (batch: number) => new FunctionCache(batch),
    step(cache: KVCache, inputs: StepInputs): Promise<StepOutput> {
      const c = cache as FunctionCache;
      const { batch, length: T } = inputs;
      const P = c.length;
      const logits = new Float32Array(batch * T * V);
      for (let r = 0; r < batch; r++) {
        const ids = [...c.ids[r]];
        const pos = [...c.positions[r]];
        for (let i = 0; i < T; i++) {
          ids.push(Number(inputs.inputIds[r * T + i]));
          pos.push(Number(inputs.positionIds[r * T + i]));
        }
        for (let i = 0; i < T; i++) {
          const cell = pos[P + i] + 1;
          if (cell >= C) continue;
          const context = new Int32Array(C).fill(-1);
          let classIndex: number | null = null;
          const mask = inputs.attentionMask.subarray(
            (r * T + i) * (P + T),
            (r * T + i + 1) * (P + T),
          );
          for (let j = 0; j < P + T; j++) {
            if (!mask[j]) continue;
            const id = ids[j];
            if (id < V) context[pos[j]] = id;
            else if (id < V + classes) classIndex = id - V;
            else if (id > V + classes) {
              throw new Error("functionModel: transition tokens are not supported");
            }
          }
          const out = options.logits({ cell, classIndex, context, row: r });
          for (let v = 0; v < V; v++) logits[(r * T + i) * V + v] = out[v];
        }
        c.ids[r] = ids;
        c.positions[r] = pos;
      }
      model.calls++;
      return Promise.resolve({ logits, modelSeconds: 0 });
    },
    truncate(cache: KVCache, length: number): void {
      const c = cache as FunctionCache;
      if (length < 0 || length > c.length) {
        throw new RangeError(`cannot truncate a cache of ${c.length} to ${length}`);
      }
      for (let r = 0; r < c.batch; r++) {
        c.ids[r].length = length;
        c.positions[r].length = length;
      }
    },
    dispose: () => Promise.resolve(),
  };
  return model;
}
