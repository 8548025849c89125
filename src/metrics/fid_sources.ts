/**
 * Where FID's pictures come from, read batch by batch: a NumPy `.npz` whose `arr_0` holds uint8
 * pictures `[N, H, W, 3]` (ADM's reference and sample batches; a stored `arr_0` streams from disk,
 * so a 2 GB reference batch never sits in memory), a folder of pictures (PNG, JPEG, WebP), or a
 * token set (`tokens.npy` of a `deno task sample` run or a merged sharded one) decoded by a
 * tokenizer.
 * @module
 */
import { loadSharp } from "../deps/sharp.ts";
import { type NpyArray, readNpy } from "../io/npy.ts";
import type { ImageBatch } from "../media/batches.ts";
import { loadTokenFile } from "../data/token_files.ts";
import type { Tokenizer } from "../tokenizer/types.ts";
import { ManifestError } from "../util/errors.ts";

/** A set of pictures read in batches. */
export interface PictureSource {
  /** What it is, for messages (`"ADM .npz arr_0"`, `"picture folder"`, `"token set"`). */
  kind: "npz" | "folder" | "tokens";
  /** Number of pictures. */
  n: number;
  /** Picture size as stored (null for a folder, whose pictures may differ). */
  height: number | null;
  /** Picture width as stored (null for a folder). */
  width: number | null;
  /** Batches of at most `size` pictures, in order. */
  batches(size: number): AsyncGenerator<ImageBatch>;
  /** Free what it holds open. */
  close(): void;
}

// ---------------------------------------------------------------------------------------------
// .npz archives, read by their zip directory

/** One member of a zip archive. */
export interface ZipEntry {
  /** Member name (`arr_0.npy`). */
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  /** Compressed size in bytes. */
  compressedSize: number;
  /** Uncompressed size in bytes. */
  size: number;
  /** Offset of the member's local header. */
  headerOffset: number;
}

async function readAt(
  file: Deno.FsFile,
  offset: number,
  length: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(length);
  await file.seek(offset, Deno.SeekMode.Start);
  let at = 0;
  while (at < length) {
    const got = await file.read(out.subarray(at));
    if (got === null) throw new Error(`unexpected end of file at byte ${offset + at}`);
    at += got;
  }
  return out;
}

/**
 * The members of a zip archive on disk, from its central directory (zip64 too), reading only the
 * directory. Throws a {@link ManifestError} naming the file when it is not a zip.
 */
export async function zipEntries(file: Deno.FsFile, name: string): Promise<ZipEntry[]> {
  const size = (await file.stat()).size;
  const tailLength = Math.min(size, 65_557);
  const tail = await readAt(file, size - tailLength, tailLength);
  const tv = new DataView(tail.buffer);
  let eocd = -1;
  for (let i = tailLength - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new ManifestError(
      `${name}: not an .npz file (no zip directory). Fix: pass a file written by numpy.savez`,
    );
  }
  let count = tv.getUint16(eocd + 10, true);
  let dirSize = tv.getUint32(eocd + 12, true);
  let dirOffset = tv.getUint32(eocd + 16, true);
  if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || tv.getUint32(loc, true) !== 0x07064b50) {
      throw new ManifestError(`${name}: zip64 directory locator missing. Fix: re-save the file`);
    }
    const at = Number(tv.getBigUint64(loc + 8, true));
    const z = new DataView((await readAt(file, at, 56)).buffer);
    if (z.getUint32(0, true) !== 0x06064b50) {
      throw new ManifestError(`${name}: zip64 directory record missing. Fix: re-save the file`);
    }
    count = Number(z.getBigUint64(32, true));
    dirSize = Number(z.getBigUint64(40, true));
    dirOffset = Number(z.getBigUint64(48, true));
  }
  const dir = await readAt(file, dirOffset, dirSize);
  const dv = new DataView(dir.buffer);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > dir.length || dv.getUint32(p, true) !== 0x02014b50) {
      throw new ManifestError(`${name}: damaged zip directory. Fix: re-download or re-save it`);
    }
    const method = dv.getUint16(p + 10, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let uncompressed = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let headerOffset = dv.getUint32(p + 42, true);
    const member = new TextDecoder().decode(dir.subarray(p + 46, p + 46 + nameLen));
    // zip64 extra field: the 0xffffffff sizes and offset, in this order
    let e = p + 46 + nameLen;
    const end = e + extraLen;
    while (e + 4 <= end) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (uncompressed === 0xffffffff) {
          uncompressed = Number(dv.getBigUint64(q, true));
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = Number(dv.getBigUint64(q, true));
          q += 8;
        }
        if (headerOffset === 0xffffffff) headerOffset = Number(dv.getBigUint64(q, true));
      }
      e += 4 + len;
    }
    entries.push({ name: member, method, compressedSize, size: uncompressed, headerOffset });
    p = end + commentLen;
  }
  return entries;
}

/** Offset of a member's data (after its local header). */
async function dataOffset(file: Deno.FsFile, entry: ZipEntry, name: string): Promise<number> {
  const h = new DataView((await readAt(file, entry.headerOffset, 30)).buffer);
  if (h.getUint32(0, true) !== 0x04034b50) {
    throw new ManifestError(`${name}: damaged zip member ${entry.name}. Fix: re-download it`);
  }
  return entry.headerOffset + 30 + h.getUint16(26, true) + h.getUint16(28, true);
}

/** Reads a member's (uncompressed) bytes front to back. */
interface MemberReader {
  /** The next `length` bytes (fewer only at the end of the member). */
  read(length: number): Promise<Uint8Array>;
}

/**
 * A sequential reader of one member: stored members are read in place, deflated ones
 * (numpy.savez_compressed) are inflated on the fly (DecompressionStream "deflate-raw"), so
 * neither is ever held whole.
 */
async function memberReader(
  file: Deno.FsFile,
  entry: ZipEntry,
  name: string,
): Promise<MemberReader> {
  const start = await dataOffset(file, entry, name);
  if (entry.method === 0) {
    let at = 0;
    return {
      async read(length: number) {
        const take = Math.min(length, entry.size - at);
        const out = await readAt(file, start + at, take);
        at += take;
        return out;
      },
    };
  }
  if (entry.method !== 8) {
    throw new ManifestError(
      `${name}: ${entry.name} uses zip method ${entry.method}. Fix: save it with numpy.savez`,
    );
  }
  const CHUNK = 1 << 20;
  let fed = 0;
  const compressed = new ReadableStream<BufferSource>({
    async pull(controller) {
      if (fed >= entry.compressedSize) return controller.close();
      const take = Math.min(CHUNK, entry.compressedSize - fed);
      controller.enqueue(await readAt(file, start + fed, take));
      fed += take;
    },
  });
  const inflated = compressed.pipeThrough(new DecompressionStream("deflate-raw")).getReader();
  let pending: Uint8Array[] = [];
  let buffered = 0;
  let done = false;
  return {
    async read(length: number) {
      while (buffered < length && !done) {
        const r = await inflated.read().catch((err) => {
          throw new ManifestError(
            `${name}: ${entry.name} does not inflate (${(err as Error).message}). ` +
              "Fix: re-download or re-save it",
          );
        });
        if (r.done) done = true;
        else if (r.value.length) {
          pending.push(r.value);
          buffered += r.value.length;
        }
      }
      const take = Math.min(length, buffered);
      const out = new Uint8Array(take);
      let at = 0;
      const rest: Uint8Array[] = [];
      for (const chunk of pending) {
        if (at < take) {
          const n = Math.min(chunk.length, take - at);
          out.set(chunk.subarray(0, n), at);
          at += n;
          if (n < chunk.length) rest.push(chunk.subarray(n));
        } else rest.push(chunk);
      }
      pending = rest;
      buffered -= take;
      return out;
    },
  };
}

/** The array names (without `.npy`) of an `.npz` on disk, reading only its directory. */
export async function npzArrayNames(path: string): Promise<string[]> {
  using file = await Deno.open(path);
  return (await zipEntries(file, path)).map((e) => e.name.replace(/\.npy$/, ""));
}

/**
 * Read some arrays of an `.npz` on disk, member by member (a large `arr_0` beside them is never
 * read). Names without `.npy`; absent ones are left out of the result.
 */
export async function readNpzArrays(
  path: string,
  names: string[],
): Promise<Record<string, NpyArray>> {
  using file = await Deno.open(path);
  const out: Record<string, NpyArray> = {};
  for (const e of await zipEntries(file, path)) {
    const array = e.name.replace(/\.npy$/, "");
    if (!names.includes(array)) continue;
    const bytes = await (await memberReader(file, e, path)).read(e.size);
    try {
      out[array] = readNpy(bytes);
    } catch (err) {
      throw new ManifestError(`${path}: ${e.name}: ${(err as Error).message}`);
    }
  }
  return out;
}

/** Read a `.npy` header from the front of a member: dtype descr, fortran order, shape. */
async function npyHeader(reader: MemberReader, name: string) {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  const fixed = await reader.read(10);
  if (fixed.length < 10 || magic.some((b, i) => fixed[i] !== b)) {
    throw new ManifestError(`${name}: arr_0 is not a .npy member (no \\x93NUMPY magic)`);
  }
  const major = fixed[6];
  let len = fixed[8] | (fixed[9] << 8);
  if (major !== 1) {
    const more = await reader.read(2);
    len = (len | (more[0] << 16) | (more[1] << 24)) >>> 0;
  }
  const text = new TextDecoder().decode(await reader.read(len));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shape = (/'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1] ?? "").split(",").map((s) => s.trim())
    .filter(Boolean).map((s) => Number(s.replace(/L$/, "")));
  return { descr, fortran, shape };
}

/**
 * The pictures of an `.npz` (`arr_0` by default, uint8 `[N, H, W, 3]`, ADM's layout), streamed
 * from disk batch by batch whether the member is stored (numpy.savez) or deflated
 * (numpy.savez_compressed). Batches must be read in order, once.
 */
export async function npzPictures(path: string, array = "arr_0"): Promise<PictureSource> {
  const file = await Deno.open(path);
  const close = () => {
    try {
      file.close();
    } catch { /* closed already */ }
  };
  try {
    const entries = await zipEntries(file, path);
    const entry = entries.find((e) => e.name === `${array}.npy`);
    if (!entry) {
      throw new ManifestError(
        `${path}: has no ${array} pictures (it holds ${
          entries.map((e) => e.name.replace(/\.npy$/, "")).join(", ") || "nothing"
        }). Fix: pass an .npz whose ${array} holds uint8 pictures [N, H, W, 3]`,
      );
    }
    const reader = await memberReader(file, entry, path);
    const head = await npyHeader(reader, path);
    const dtype = head.descr && /^[|<>=]u1$/.test(head.descr) ? "uint8" : head.descr ?? "?";
    if (head.fortran !== "False") {
      throw new ManifestError(`${path}: ${array} is not C-ordered. Fix: save a C-ordered array`);
    }
    const shape = head.shape;
    if (
      dtype !== "uint8" || shape.length !== 4 || shape[3] !== 3 ||
      shape.some((s) => !Number.isSafeInteger(s) || s < 1)
    ) {
      throw new ManifestError(
        `${path}: ${array} is ${dtype} (${shape.join(", ")}); expected uint8 pictures ` +
          "[N, H, W, 3]. Fix: save them as numpy.savez(path, uint8 array of shape (N, H, W, 3))",
      );
    }
    const [n, height, width] = shape;
    const per = height * width * 3;
    return {
      kind: "npz",
      n,
      height,
      width,
      async *batches(size: number) {
        for (let i = 0; i < n; i += size) {
          const count = Math.min(size, n - i);
          const data = await reader.read(count * per);
          if (data.length !== count * per) {
            throw new ManifestError(
              `${path}: ${array} ends after ${i + Math.floor(data.length / per)} of its ${n} ` +
                "pictures. Fix: re-download or re-save it",
            );
          }
          yield { n: count, height, width, data };
        }
      },
      close,
    };
  } catch (err) {
    close();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// picture folders

/** File endings read as pictures. */
export const PICTURE_EXTENSIONS = [".png", ".jpg", ".jpeg", ".webp"];

/** The picture files of a folder (not its subfolders), sorted by name. */
export async function pictureFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const lower = e.name.toLowerCase();
    if (e.isFile && PICTURE_EXTENSIONS.some((x) => lower.endsWith(x))) names.push(e.name);
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((n) => `${dir.replace(/\/+$/, "")}/${n}`);
}

/**
 * The pictures of a folder, decoded with sharp to RGB (alpha dropped, as PIL's `convert("RGB")`
 * in pytorch-fid's and ADM's loaders; grey pictures become RGB) and resized to `height` x
 * `width` with `kernel` where they have another size (fit "fill", as the feature extractor
 * would). A picture that cannot be decoded is an error naming it.
 */
export async function folderPictures(
  dir: string,
  height: number,
  width: number,
  kernel: "nearest" | "linear" | "cubic" | "lanczos3",
  onResize?: (file: string, h: number, w: number) => void,
): Promise<PictureSource> {
  const files = await pictureFiles(dir);
  const sharp = await loadSharp();
  const per = height * width * 3;
  const decode = async (path: string): Promise<Uint8Array> => {
    try {
      const img = sharp(await Deno.readFile(path), { failOn: "error" });
      const meta = await img.metadata();
      let pipe = img.toColourspace("srgb").removeAlpha();
      if (meta.width !== width || meta.height !== height) {
        onResize?.(path, meta.height ?? 0, meta.width ?? 0);
        pipe = pipe.resize(width, height, { fit: "fill", kernel });
      }
      const { data, info } = await pipe.raw().toBuffer({ resolveWithObject: true });
      if (info.channels !== 3 || data.length !== per) {
        throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}`);
      }
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } catch (err) {
      throw new ManifestError(
        `${path}: cannot be read as a picture (${(err as Error).message.split("\n")[0]}). ` +
          "Fix: remove or replace it",
      );
    }
  };
  return {
    kind: "folder",
    n: files.length,
    height: null,
    width: null,
    async *batches(size: number) {
      for (let i = 0; i < files.length; i += size) {
        const part = files.slice(i, i + size);
        const data = new Uint8Array(part.length * per);
        const decoded = await Promise.all(part.map(decode));
        decoded.forEach((d, j) => data.set(d, j * per));
        yield { n: part.length, height, width, data };
      }
    },
    close: () => {},
  };
}

// ---------------------------------------------------------------------------------------------
// token sets

/**
 * The pictures of a token set (`tokens.npy`, uint16 `[N, H, W]`), decoded by `tokenizer` batch by
 * batch. Clips (`[N, F, H, W]` with F > 1) are refused: FID is a score of still pictures.
 */
export async function tokenPictures(path: string, tokenizer: Tokenizer): Promise<PictureSource> {
  const t = await loadTokenFile(path, { vocabSize: tokenizer.vocabSize });
  if (t.frames !== 1) {
    throw new ManifestError(
      `${path}: holds clips of ${t.frames} frames; FID/IS score still pictures. Fix: score ` +
        "the frames as pictures (decode them to a folder) or use a video metric",
    );
  }
  const cells = t.height * t.width;
  return {
    kind: "tokens",
    n: t.n,
    height: t.height * tokenizer.downsample,
    width: t.width * tokenizer.downsample,
    async *batches(size: number) {
      for (let i = 0; i < t.n; i += size) {
        const count = Math.min(size, t.n - i);
        yield await tokenizer.decode({
          n: count,
          height: t.height,
          width: t.width,
          tokens: t.tokens.subarray(i * cells, (i + count) * cells),
        });
      }
    },
    close: () => {},
  };
}
