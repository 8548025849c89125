/**
 * A key/value cache kept in JavaScript buffers that grow in chunks, for graphs that return this
 * step's keys and values (`new.<i>.key|value`, [B, H, T, D]) besides the grown cache.
 *
 * Why: onnxruntime-node copies every fetched output into a fresh JavaScript buffer. Fetching the
 * grown cache (`present.*`, [B, H, P+T, D]) every step costs an allocation and a copy of the
 * whole cache, which grows with P: for a 256-wide, 4-layer model at 570 cached slots, 1.6 of a
 * step's 2.7 ms (measured). Here each layer's keys and values live in one buffer laid out
 * [B, H, capacity, D]; a step feeds the whole buffer as its past, the slots in [length, capacity)
 * masked off, and writes only the T new slots back. Capacity grows in whole chunks of
 * {@link ARENA_CHUNK} slots, by room for three more steps of the current width and at least a
 * quarter of itself (so attention reads at most a quarter of padding beyond the first chunks), and
 * `truncate` only moves the length: the dropped slots are masked from then on.
 * @module
 */
import type { KVCache } from "./ar_model.ts";

/** Capacity grows in steps of this many slots: attention reads at most this much padding. */
export const ARENA_CHUNK = 32;

/** The element type of a cache: float32, or float16 for half-precision graphs. */
export type CacheDType = "float32" | "float16";

type CacheArray = Float32Array | Uint16Array;

function view(dtype: CacheDType, buffer: ArrayBuffer, n: number): CacheArray {
  return dtype === "float16" ? new Uint16Array(buffer, 0, n) : new Float32Array(buffer, 0, n);
}

/** A chunk-grown key/value cache for one batch (see the module doc). */
export class ArenaCache implements KVCache {
  readonly batch: number;
  readonly dtype: CacheDType;
  readonly #heads: number;
  readonly #headDim: number;
  readonly #reserve: number;
  /** Per layer, the memory behind keys[l] and values[l]; replaced only when it is too small. */
  #keyMemory: ArrayBuffer[];
  #valueMemory: ArrayBuffer[];
  /** Slots cached so far (P). */
  length = 0;
  /** Steps run on this cache (for messages). */
  steps = 0;
  /** Slots each row's buffer holds; the past fed to the graph is this long. */
  capacity = 0;
  /** Per layer, [batch, heads, capacity, headDim] (a view of the layer's memory). */
  keys: CacheArray[];
  /** Per layer, [batch, heads, capacity, headDim] (a view of the layer's memory). */
  values: CacheArray[];

  /**
   * @param reserve slots the run will cache at most, when known (the sampler knows its
   *   schedule's): memory for that many is taken once, so growing re-lays rows out in place
   *   instead of allocating (fresh pages cost as much as the copy); 0: grow as needed
   */
  constructor(
    batch: number,
    layers: number,
    heads: number,
    headDim: number,
    dtype: CacheDType,
    reserve = 0,
  ) {
    this.batch = batch;
    this.dtype = dtype;
    this.#heads = heads;
    this.#headDim = headDim;
    this.#reserve = reserve;
    const bytes = batch * heads * reserve * headDim * (dtype === "float16" ? 2 : 4);
    this.#keyMemory = Array.from({ length: layers }, () => new ArrayBuffer(bytes));
    this.#valueMemory = Array.from({ length: layers }, () => new ArrayBuffer(bytes));
    this.keys = this.#keyMemory.map((m) => view(dtype, m, 0));
    this.values = this.#valueMemory.map((m) => view(dtype, m, 0));
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
    // Room for three more steps of this width, and at least a quarter more: a wide step (PAR-16x
    // feeds 31 slots) would otherwise re-lay the whole cache out at nearly every step, and a long
    // run every 32 slots (measured: re-layouts were 8% of a PAR-16x batch-8 run).
    if (need > this.capacity) {
      const want = Math.max(need + 3 * T, Math.ceil(this.capacity * 1.25));
      const chunked = Math.ceil(want / ARENA_CHUNK) * ARENA_CHUNK;
      // Within the reserved slots, never past them (the reserve is the run's whole length).
      this.#grow(need <= this.#reserve ? Math.min(chunked, this.#reserve) : chunked);
    }
    const rows = this.batch * this.#heads;
    const n = T * this.#headDim;
    const at = this.length * this.#headDim;
    const stride = this.capacity * this.#headDim;
    for (let l = 0; l < this.keys.length; l++) {
      copyRows(this.keys[l], newKeys[l], rows, n, at, stride);
      copyRows(this.values[l], newValues[l], rows, n, at, stride);
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
    const keep = this.length * D;
    const bytes = this.dtype === "float16" ? 2 : 4;
    const move = (memory: ArrayBuffer, current: CacheArray): [ArrayBuffer, CacheArray] => {
      if (memory.byteLength >= rows * capacity * D * bytes) {
        // In place, last row first: each row moves to a higher offset, never over a row not yet
        // moved (copyWithin handles the overlap within a row).
        const all = view(this.dtype, memory, rows * capacity * D);
        for (let r = rows - 1; r > 0; r--) {
          all.copyWithin(r * capacity * D, r * old * D, r * old * D + keep);
        }
        return [memory, all];
      }
      const fresh = new ArrayBuffer(rows * capacity * D * bytes);
      const all = view(this.dtype, fresh, rows * capacity * D);
      for (let r = 0; r < rows; r++) {
        all.set(current.subarray(r * old * D, r * old * D + keep), r * capacity * D);
      }
      return [fresh, all];
    };
    for (let l = 0; l < this.keys.length; l++) {
      [this.#keyMemory[l], this.keys[l]] = move(this.#keyMemory[l], this.keys[l]);
      [this.#valueMemory[l], this.values[l]] = move(this.#valueMemory[l], this.values[l]);
    }
    this.capacity = capacity;
  }
}

/** Copy `rows` rows of `n` elements from a dense `src` into `dst` rows `stride` apart, at `at`. */
function copyRows(
  dst: CacheArray,
  src: CacheArray,
  rows: number,
  n: number,
  at: number,
  stride: number,
): void {
  for (let r = 0; r < rows; r++) dst.set(src.subarray(r * n, (r + 1) * n), r * stride + at);
}
