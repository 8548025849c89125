/**
 * NumPy `.npy` files (format v1.0 written; v1.0, v2.0 and v3.0 read), optionally gzip-compressed,
 * so that token fixtures, golden files and PyTorch-side data pass between Deno and Python with
 * `numpy.load` (and `gzip.open`) and nothing else.
 *
 * Only little-endian, C-ordered arrays of the dtypes in {@link NpyDtype} are supported; anything
 * else is rejected with a message naming the header field.
 * @module
 */
import { gunzip, gzip, isGzip } from "./gzip.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { readBytes, type ReadOptions } from "./read.ts";
import { ManifestError } from "../util/errors.ts";

/** Element types this module reads and writes, named as in NumPy. */
export type NpyDtype =
  | "bool"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "float32"
  | "float64";

/** The typed array that holds each dtype's elements (bool as 0/1 bytes). */
export interface NpyArrayTypes {
  /** `|b1`, one byte per element. */
  bool: Uint8Array;
  /** `|i1`. */
  int8: Int8Array;
  /** `|u1`. */
  uint8: Uint8Array;
  /** `<i2`. */
  int16: Int16Array;
  /** `<u2` (token grids). */
  uint16: Uint16Array;
  /** `<i4`. */
  int32: Int32Array;
  /** `<u4`. */
  uint32: Uint32Array;
  /** `<i8`. */
  int64: BigInt64Array;
  /** `<u8`. */
  uint64: BigUint64Array;
  /** `<f4`. */
  float32: Float32Array;
  /** `<f8`. */
  float64: Float64Array;
}

/** Any typed array an {@link NpyArray} can hold. */
export type NpyData = NpyArrayTypes[NpyDtype];

/** An n-dimensional array: dtype, shape (C order) and the flat elements. */
export interface NpyArray<D extends NpyDtype = NpyDtype> {
  /** Element type. */
  dtype: D;
  /** Dimensions, outermost first; `[]` for a scalar. */
  shape: number[];
  /** The elements in C (row-major) order; length = product of `shape`. */
  data: NpyArrayTypes[D];
}

interface DtypeInfo {
  descr: string;
  bytes: number;
  // deno-lint-ignore no-explicit-any
  ctor: new (buffer: ArrayBuffer, byteOffset?: number, length?: number) => any;
}

const DTYPES: Record<NpyDtype, DtypeInfo> = {
  bool: { descr: "|b1", bytes: 1, ctor: Uint8Array },
  int8: { descr: "|i1", bytes: 1, ctor: Int8Array },
  uint8: { descr: "|u1", bytes: 1, ctor: Uint8Array },
  int16: { descr: "<i2", bytes: 2, ctor: Int16Array },
  uint16: { descr: "<u2", bytes: 2, ctor: Uint16Array },
  int32: { descr: "<i4", bytes: 4, ctor: Int32Array },
  uint32: { descr: "<u4", bytes: 4, ctor: Uint32Array },
  int64: { descr: "<i8", bytes: 8, ctor: BigInt64Array },
  uint64: { descr: "<u8", bytes: 8, ctor: BigUint64Array },
  float32: { descr: "<f4", bytes: 4, ctor: Float32Array },
  float64: { descr: "<f8", bytes: 8, ctor: Float64Array },
};

/** Every supported dtype name. */
export const NPY_DTYPES = Object.keys(DTYPES) as NpyDtype[];

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ALIGN = 64;

// The host must be little-endian for the typed-array views to be read as stored (all targets
// Deno runs on are).
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error("npy.ts needs a little-endian host");
}

/** Number of elements of an array with this shape (1 for a scalar shape `[]`). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function dtypeFromDescr(descr: string): NpyDtype {
  // "=" (native) and "<" mean little-endian here; one-byte types may carry any order mark.
  const norm = descr.replace(/^=/, "<");
  for (const name of NPY_DTYPES) {
    const d = DTYPES[name].descr;
    if (d === norm || (DTYPES[name].bytes === 1 && norm.slice(1) === d.slice(1))) return name;
  }
  if (descr.startsWith(">")) {
    throw new Error(`npy header 'descr' is big-endian (${descr}); save it little-endian`);
  }
  throw new Error(
    `npy header 'descr' ${descr} is not supported; use one of ${
      NPY_DTYPES.map((n) => DTYPES[n].descr).join(", ")
    }`,
  );
}

/**
 * Parse `.npy` bytes (not gzipped; see {@link decodeNpy} for either) into an {@link NpyArray}.
 * The returned data is a fresh copy, aligned for its typed array.
 * @example
 * const { dtype, shape, data } = readNpy(await Deno.readFile("x.npy"));
 */
export function readNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new Error("not a .npy file (missing \\x93NUMPY magic bytes)");
  }
  const major = bytes[6];
  let headerLen: number;
  let headerStart: number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new Error("truncated .npy header");
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new Error(`unsupported .npy format version ${major}.${bytes[7]}`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw new Error("truncated .npy header");
  const header = new TextDecoder().decode(bytes.subarray(headerStart, dataStart));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined) throw new Error(`npy header has no 'descr': ${header.trim()}`);
  if (fortran === undefined) throw new Error(`npy header has no 'fortran_order': ${header.trim()}`);
  if (shapeText === undefined) throw new Error(`npy header has no 'shape': ${header.trim()}`);
  if (fortran === "True") {
    throw new Error("npy header 'fortran_order' is True; save a C-ordered array");
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s.length > 0).map(
    (s) => {
      const n = Number(s.replace(/L$/, ""));
      if (!Number.isSafeInteger(n) || n < 0) {
        throw new Error(`npy header 'shape' has bad size ${s}`);
      }
      return n;
    },
  );
  const dtype = dtypeFromDescr(descr);
  const info = DTYPES[dtype];
  const count = shapeSize(shape);
  const nbytes = count * info.bytes;
  if (bytes.length - dataStart < nbytes) {
    throw new Error(
      `truncated .npy data: shape (${shape.join(", ")}) ${dtype} needs ${nbytes} bytes, file has ${
        bytes.length - dataStart
      }`,
    );
  }
  const copy = bytes.slice(dataStart, dataStart + nbytes);
  return { dtype, shape, data: new info.ctor(copy.buffer, 0, count) };
}

/**
 * Serialize an array as a `.npy` v1.0 file (little-endian, C order, header padded to 64 bytes
 * like NumPy does). Checks that the data length matches the shape and the typed array the dtype.
 * @example
 * const bytes = writeNpy({ dtype: "uint16", shape: [2, 3], data: new Uint16Array(6) });
 */
export function writeNpy(array: NpyArray): Uint8Array {
  const info = DTYPES[array.dtype];
  if (!info) throw new Error(`unsupported dtype ${array.dtype}`);
  if (!(array.data instanceof info.ctor)) {
    throw new Error(
      `dtype ${array.dtype} needs a ${info.ctor.name}, got ${array.data.constructor.name}`,
    );
  }
  for (const d of array.shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`bad shape entry ${d}`);
  }
  const count = shapeSize(array.shape);
  if (array.data.length !== count) {
    throw new Error(
      `data has ${array.data.length} elements, shape (${array.shape.join(", ")}) needs ${count}`,
    );
  }
  const shapeText = array.shape.length === 1
    ? `(${array.shape[0]},)`
    : `(${array.shape.join(", ")})`;
  let header = `{'descr': '${info.descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pad = (ALIGN - ((10 + header.length + 1) % ALIGN)) % ALIGN;
  header += " ".repeat(pad) + "\n";
  if (header.length > 0xffff) throw new Error("npy header too long for format v1.0");
  const body = new Uint8Array(array.data.buffer, array.data.byteOffset, count * info.bytes);
  const out = new Uint8Array(10 + header.length + body.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
}

/** Parse `.npy` bytes that may be gzip-compressed (detected by the gzip magic bytes). */
export function decodeNpy(bytes: Uint8Array): NpyArray {
  return readNpy(isGzip(bytes) ? gunzip(bytes) : bytes);
}

/** Serialize an array as `.npy`, gzip-compressed (deterministically) when `compress` is true. */
export function encodeNpy(array: NpyArray, compress: boolean): Uint8Array {
  const raw = writeNpy(array);
  return compress ? gzip(raw) : raw;
}

function pathText(path: string | URL): string {
  return path instanceof URL ? path.pathname : path;
}

/**
 * Read a `.npy` or `.npy.gz` file (gzip chosen by the `.gz` extension) from a path, a file: URL
 * or an http(s): URL, within `options`' limits (see `readBytes`). Errors are
 * {@link ManifestError}s naming the file.
 * @example
 * const codebook = await loadNpyFile(new URL("../../fixtures/emoji/codebook.npy.gz", import.meta.url));
 */
export async function loadNpyFile(
  path: string | URL,
  options: ReadOptions = {},
): Promise<NpyArray> {
  const name = pathText(path);
  const bytes = await readBytes(path, options);
  return parseNpyFile(bytes, name, options.maxBytes);
}

/**
 * Parse the bytes of a `.npy` or `.npy.gz` file named `name` (gzip chosen by the `.gz` extension
 * or the magic bytes); a bad file is a {@link ManifestError} naming it. `maxBytes` bounds the
 * decompressed size.
 */
export function parseNpyFile(bytes: Uint8Array, name: string, maxBytes?: number): NpyArray {
  try {
    return readNpy(name.endsWith(".gz") || isGzip(bytes) ? gunzip(bytes, maxBytes) : bytes);
  } catch (err) {
    throw new ManifestError(
      `${name}: ${(err as Error).message}. Fix: use a .npy (or .npy.gz) file written by parlab ` +
        "or numpy.save",
    );
  }
}

/**
 * Write an array to a `.npy` or `.npy.gz` file (gzip chosen by the `.gz` extension), atomically.
 * @example
 * await saveNpyFile("out/x.npy.gz", { dtype: "float32", shape: [3], data: new Float32Array(3) });
 */
export async function saveNpyFile(path: string | URL, array: NpyArray): Promise<void> {
  await writeFileAtomic(path, encodeNpy(array, pathText(path).endsWith(".gz")));
}
