/**
 * The resume store of a sampling run: every finished batch of token grids saved atomically in a
 * folder beside the run's key (its effective settings), so an interrupted run picks up where it
 * stopped and gets the same tokens (sampleMany's `resume` / `onBatch`). `deno task sample` and
 * the experiments both sample through it.
 * @module
 */
import { sha256Hex } from "../io/hash.ts";
import { decodeNpy, encodeNpy } from "../io/npy.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { UsageError } from "../util/errors.ts";

/** The `format` of `key.json`: marks a folder as parlab's, so only such folders are ever deleted. */
const FORMAT = "parlab-resume/1";

/** What `key.json` holds. */
interface KeyFile {
  format: typeof FORMAT;
  /** sha256 of the key's JSON: every batch file records it. */
  keyHash: string;
  key: Record<string, unknown>;
}

/** What `<start>.json` beside every batch holds. */
interface BatchRecord {
  keyHash: string;
  sha256: string;
  images: number;
}

/** What to do when the folder holds batches of a run with another key. */
export type KeyMismatch = "refuse" | "discard";

/**
 * Saved batches of one run, in `<dir>`: `key.json` (the run's settings, marked as parlab's) and
 * per finished batch `<start>.npy` (uint16, [images, cells]) with `<start>.json` (the key's hash
 * and the batch file's sha256). A batch that fails either check is sampled again, with a
 * warning; a folder parlab did not make is never deleted.
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
  /** The hash of the key {@link load} settled on: every saved batch records it. */
  #keyHash: string | null = null;

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
    options: { onMismatch: KeyMismatch; fresh?: boolean; warn?: (message: string) => void },
  ): Promise<Int32Array | undefined> {
    const warn = options.warn ?? console.warn;
    const keyHash = await sha256Hex(new TextEncoder().encode(JSON.stringify(key)));
    this.#keyHash = keyHash;
    const saved = await this.#readKey();
    const differ = saved
      ? [...new Set([...Object.keys(key), ...Object.keys(saved.key)])].filter((k) =>
        JSON.stringify(saved.key[k]) !== JSON.stringify(key[k])
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
      const file: KeyFile = { format: FORMAT, keyHash, key };
      await writeFileAtomic(`${this.dir}/key.json`, JSON.stringify(file, null, 1));
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
      // Batches finish in order, so the saved ones form a prefix; stop at a gap or a bad file,
      // and sample from there again.
      if (start !== next) break;
      const batch = await this.#readBatch(start, keyHash);
      if (typeof batch === "string") {
        warn(`resume: ${this.dir}/${start}.npy ${batch}; sampling from image ${start} again`);
        break;
      }
      if (next + batch.length / this.cells > total) break;
      chunks.push(batch);
      next += batch.length / this.cells;
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

  /** The key file, or null when there is none; a folder that is not parlab's is refused. */
  async #readKey(): Promise<KeyFile | null> {
    let text: string;
    try {
      text = await Deno.readTextFile(`${this.dir}/key.json`);
    } catch {
      if (await exists(this.dir) && !(await isEmptyDir(this.dir))) {
        throw new UsageError(
          `--out: ${this.dir} exists and was not made by parlab (no key.json); parlab never ` +
            "deletes what it did not create. Fix: choose another --out, or move that folder",
        );
      }
      return null;
    }
    try {
      const file = JSON.parse(text) as KeyFile;
      if (file.format === FORMAT && typeof file.keyHash === "string" && file.key) return file;
    } catch {
      // fall through
    }
    throw new UsageError(
      `--out: ${this.dir}/key.json is not a parlab resume key; parlab never deletes what it ` +
        "did not create. Fix: choose another --out, or move that folder",
    );
  }

  /** A saved batch's tokens, or why it cannot be used. */
  async #readBatch(start: number, keyHash: string): Promise<Uint16Array | string> {
    let bytes: Uint8Array;
    let record: BatchRecord;
    try {
      bytes = await Deno.readFile(`${this.dir}/${start}.npy`);
      record = JSON.parse(await Deno.readTextFile(`${this.dir}/${start}.json`));
    } catch {
      return "has no readable record";
    }
    if (record.keyHash !== keyHash) return "belongs to a run with other settings";
    if (await sha256Hex(bytes) !== record.sha256) return "fails its checksum (damaged)";
    try {
      const a = decodeNpy(bytes);
      if (a.dtype !== "uint16" || a.shape.length !== 2 || a.shape[1] !== this.cells) {
        return `has shape (${a.shape.join(", ")}) ${a.dtype}, not (n, ${this.cells}) uint16`;
      }
      return a.data as Uint16Array;
    } catch (err) {
      return `cannot be read (${(err as Error).message})`;
    }
  }

  /** Save one finished batch (atomically: a batch file is either whole or absent). */
  async save(start: number, tokens: Int32Array): Promise<void> {
    const n = tokens.length / this.cells;
    const keyHash = this.#keyHash;
    if (!keyHash) throw new Error(`ResumeStore.save before load: ${this.dir} has no key`);
    const bytes = encodeNpy(
      { dtype: "uint16", shape: [n, this.cells], data: Uint16Array.from(tokens) },
      false,
    );
    // The record goes last: a batch without its record is never trusted.
    await writeFileAtomic(`${this.dir}/${start}.npy`, bytes);
    const record: BatchRecord = {
      keyHash,
      sha256: await sha256Hex(bytes),
      images: n,
    };
    await writeFileAtomic(`${this.dir}/${start}.json`, JSON.stringify(record));
  }

  /** The run is complete (its results are written): drop the saved batches. */
  async remove(): Promise<void> {
    if (!(await exists(this.dir))) return;
    await this.#readKey(); // refuses a folder parlab did not make
    await Deno.remove(this.dir, { recursive: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function isEmptyDir(path: string): Promise<boolean> {
  for await (const _ of Deno.readDir(path)) return false;
  return true;
}
