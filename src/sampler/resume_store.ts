/**
 * The resume store of a sampling run: every finished batch of token grids saved atomically in a
 * folder beside the run's key (its effective settings), so an interrupted run picks up where it
 * stopped and gets the same tokens (sampleMany's `resume` / `onBatch`). `deno task sample` and
 * the experiments both sample through it.
 * @module
 */
import { encodeNpy, loadNpyFile } from "../io/npy.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { UsageError } from "../util/errors.ts";

/** What to do when the folder holds batches of a run with another key. */
export type KeyMismatch = "refuse" | "discard";

/**
 * Saved batches of one run, in `<dir>`: `key.json` and `<start>.npy` per finished batch
 * (uint16, [images, cells]).
 * @example
 * const store = new ResumeStore(`${out}/parts`, 576);
 * const resume = await store.load(key, { onMismatch: "refuse" });
 * await sampleMany(model, { ...options, resume, onBatch: (s, t) => store.save(s, t) });
 */
export class ResumeStore {
  /** The folder holding the batches. */
  readonly dir: string;
  /** Cells per token grid. */
  readonly cells: number;

  /**
   * A store in `dir` for grids of `cells` cells.
   * @param dir the folder of the saved batches (created on first use)
   * @param cells cells per token grid
   */
  constructor(dir: string, cells: number) {
    this.dir = dir;
    this.cells = cells;
  }

  /**
   * Tokens of the images finished by an earlier run with the same key (a prefix of the run's
   * `total` images), or undefined when there are none. Batches of a run with another key are a
   * {@link UsageError} naming the settings that differ (`refuse`), or are discarded (`discard`);
   * `fresh` discards them in any case.
   */
  async load(
    key: Record<string, unknown>,
    total: number,
    options: { onMismatch: KeyMismatch; fresh?: boolean },
  ): Promise<Int32Array | undefined> {
    let saved: Record<string, unknown> | null = null;
    try {
      saved = JSON.parse(await Deno.readTextFile(`${this.dir}/key.json`));
    } catch {
      saved = null;
    }
    const differ = saved
      ? [...new Set([...Object.keys(key), ...Object.keys(saved)])].filter((k) =>
        JSON.stringify(saved![k]) !== JSON.stringify(key[k])
      )
      : [];
    if (differ.length > 0 && !options.fresh && options.onMismatch === "refuse") {
      throw new UsageError(
        `--out: ${this.dir} holds the finished batches of a run with other settings ` +
          `(${differ.join(", ")} differ). Fix: rerun with that run's flags to resume it, pass ` +
          "another --out, or add --fresh to discard it",
      );
    }
    if (options.fresh || !saved || differ.length > 0) {
      await this.remove();
      await Deno.mkdir(this.dir, { recursive: true });
      await writeFileAtomic(`${this.dir}/key.json`, JSON.stringify(key, null, 1));
      return undefined;
    }
    const starts: number[] = [];
    for await (const e of Deno.readDir(this.dir)) {
      const m = /^(\d+)\.npy$/.exec(e.name);
      if (e.isFile && m) starts.push(Number(m[1]));
    }
    starts.sort((a, b) => a - b);
    const chunks: Uint16Array[] = [];
    let next = 0;
    for (const start of starts) {
      // Batches finish in order, so the saved ones form a prefix; stop at a gap or a bad file.
      if (start !== next) break;
      const a = await loadNpyFile(`${this.dir}/${start}.npy`).catch(() => null);
      if (!a || a.dtype !== "uint16" || a.shape.length !== 2 || a.shape[1] !== this.cells) break;
      if (next + a.shape[0] > total) break;
      chunks.push(a.data as Uint16Array);
      next += a.shape[0];
    }
    if (next === 0) return undefined;
    const tokens = new Int32Array(next * this.cells);
    let at = 0;
    for (const c of chunks) {
      tokens.set(c, at);
      at += c.length;
    }
    return tokens;
  }

  /** Save one finished batch (atomically: a batch file is either whole or absent). */
  async save(start: number, tokens: Int32Array): Promise<void> {
    const n = tokens.length / this.cells;
    await writeFileAtomic(
      `${this.dir}/${start}.npy`,
      encodeNpy({ dtype: "uint16", shape: [n, this.cells], data: Uint16Array.from(tokens) }, false),
    );
  }

  /** The run is complete (its results are written): drop the saved batches. */
  async remove(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}
