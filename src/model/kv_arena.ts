/**
 * A key/value cache kept in JavaScript buffers that grow in chunks, for graphs that return this
 * step's keys and values (`new.<i>.key|value`, [B, H, T, D]) besides the grown cache.
 *
 * Why: onnxruntime-node copies every fetched output into a fresh JavaScript buffer. Fetching the
 * grown cache (`present.*`, [B, H, P+T, D]) every step costs an allocation and a copy of the
 * whole cache, which grows with P: for a 256-wide, 4-layer model at 570 cached slots, 1.6 of a
 * step's 2.7 ms (measured). Here each layer's keys and values live in one buffer laid out
 * [B, H, capacity, D]; a step feeds the whole buffer as its past, the slots in [length, capacity)
 * masked off, and writes only the T new slots back. Capacity grows by {@link ARENA_CHUNK} slots
 * at a time (one re-layout per chunk), so attention reads at most a chunk of padding, and
 * `truncate` only moves the length: the dropped slots are masked from then on.
 * @module
 */
import type { KVCache } from "./ar_model.ts";

/** The names of a graph's per-step key/value outputs, `new.<i>.key|value`, layer by layer. */
export function newSlotOutputNames(layers: number): string[] {
  return Array.from({ length: layers }, (_, i) => [`new.${i}.key`, `new.${i}.value`]).flat();
}

/** Capacity grows in steps of this many slots: attention reads at most this much padding. */
export const ARENA_CHUNK = 32;

/** The element type of a cache: float32, or float16 for half-precision graphs. */
export type CacheDType = "float32" | "float16";

type CacheArray = Float32Array | Uint16Array;

function alloc(dtype: CacheDType, n: number): CacheArray {
  return dtype === "float16" ? new Uint16Array(n) : new Float32Array(n);
}

/** A chunk-grown key/value cache for one batch (see the module doc). */
export class ArenaCache implements KVCache {
  readonly batch: number;
  readonly dtype: CacheDType;
  readonly #heads: number;
  readonly #headDim: number;
  /** Slots cached so far (P). */
  length = 0;
  /** Steps run on this cache (for messages). */
  steps = 0;
  /** Slots each row's buffer holds; the past fed to the graph is this long. */
  capacity = 0;
  /** Per layer, [batch, heads, capacity, headDim]. */
  keys: CacheArray[];
  /** Per layer, [batch, heads, capacity, headDim]. */
  values: CacheArray[];

  constructor(batch: number, layers: number, heads: number, headDim: number, dtype: CacheDType) {
    this.batch = batch;
    this.dtype = dtype;
    this.#heads = heads;
    this.#headDim = headDim;
    this.keys = Array.from({ length: layers }, () => alloc(dtype, 0));
    this.values = Array.from({ length: layers }, () => alloc(dtype, 0));
  }

  /** The shape of the past fed to the graph: [batch, heads, capacity, headDim]. */
  get pastDims(): number[] {
    return [this.batch, this.#heads, this.capacity, this.#headDim];
  }

  /**
   * The step's attention mask [batch, 1, T, length + T] widened to the fed past:
   * [batch, 1, T, capacity + T], the padding slots [length, capacity) masked off.
   */
  widenMask(mask: Uint8Array, T: number): Uint8Array {
    const P = this.length;
    const C = this.capacity;
    if (C === P) return mask;
    const rows = mask.length / (P + T);
    const out = new Uint8Array(rows * (C + T));
    for (let r = 0; r < rows; r++) {
      const src = r * (P + T);
      const dst = r * (C + T);
      out.set(mask.subarray(src, src + P), dst);
      out.set(mask.subarray(src + P, src + P + T), dst + C);
    }
    return out;
  }

  /**
   * Append this step's keys and values ([batch, heads, T, headDim] per layer), growing the
   * buffers by whole chunks when they are full.
   */
  append(newKeys: readonly CacheArray[], newValues: readonly CacheArray[], T: number): void {
    const need = this.length + T;
    if (need > this.capacity) this.#grow(Math.ceil(need / ARENA_CHUNK) * ARENA_CHUNK);
    const rows = this.batch * this.#heads;
    const D = this.#headDim;
    const C = this.capacity;
    for (let l = 0; l < this.keys.length; l++) {
      for (const [arena, fresh] of [[this.keys[l], newKeys[l]], [this.values[l], newValues[l]]]) {
        for (let r = 0; r < rows; r++) {
          arena.set(fresh.subarray(r * T * D, (r + 1) * T * D), (r * C + this.length) * D);
        }
      }
    }
    this.length = need;
    this.steps++;
  }

  /** Drop slots beyond `length`: they stay in the buffers, masked off from now on. */
  truncate(length: number): void {
    if (length < 0 || length > this.length) {
      throw new RangeError(`cannot truncate a cache of ${this.length} to ${length}`);
    }
    this.length = length;
  }

  #grow(capacity: number): void {
    const rows = this.batch * this.#heads;
    const D = this.#headDim;
    const old = this.capacity;
    const keep = this.length;
    const move = (a: CacheArray): CacheArray => {
      const b = alloc(this.dtype, rows * capacity * D);
      for (let r = 0; r < rows; r++) {
        b.set(a.subarray(r * old * D, (r * old + keep) * D), r * capacity * D);
      }
      return b;
    };
    this.keys = this.keys.map(move);
    this.values = this.values.map(move);
    this.capacity = capacity;
  }
}
