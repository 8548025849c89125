/**
 * `deno task tokenize`: an image folder to token grids, ready for the entropy probes and
 * `deno task dependency --tokens`.
 *
 *   deno task tokenize --tokenizer fixtures/tokenizers/vq-tiny16.tokenizer.json \
 *     --images ~/imagenet/train --size 384 --out out/tokens
 *
 * `--images` is an ImageNet-layout folder (`<class>/<file>`, class folders sorted by name give
 * the labels 0..C-1, as torchvision's `ImageFolder` does) or a flat folder of pictures (one
 * class, named after the folder, label 0). Pictures are pre-processed like LlamaGen's
 * `autoregressive/train/extract_codes_c2i.py` (ADM's `center_crop_arr`: box-halve while the short
 * side is at least twice `--size`, bicubic-resize the short side to `--size`, centre-crop), with
 * Pillow's resampling reproduced bit for bit (see {@link centerCropArr} and src/data/README.md for
 * what may still differ), then encoded in batches by a VQ tokenizer (its manifest) or a patch
 * k-means codebook (`.npy`/`.npy.gz`).
 *
 * Writes into `--out`: `tokens.npy` (uint16 `[N, H/ds, W/ds]`), `labels.npy` (uint8, or uint16
 * above 256 classes), `skipped.json` (every file left out, with the reason) and `manifest.json`
 * (format `parlab-tokens/1`, written last: a folder without it is unfinished). A picture that
 * cannot be read is skipped and listed, never fatal (no readable picture at all is an error).
 *
 * Resumable: every encoded batch is saved at once under `--out/parts/` (the resume store of
 * `deno task sample`, keyed by the tokenizer's sha256, the file list and the size); rerunning the
 * same command after an interruption keeps those batches and encodes the rest, to the same tokens.
 * Other settings into the same `--out` are refused (`--fresh` discards the saved batches).
 * For tests, `PARLAB_TOKENIZE_STOP_AFTER=k` ends the run (exit code 3) right after its k-th
 * saved batch, as an interruption would.
 * @module
 */
import { z } from "../src/deps/zod.ts";
import { loadSharp } from "../src/deps/sharp.ts";
import { flagError, numberFlag, parseFlags, runMain } from "../src/util/cli.ts";
import { UsageError } from "../src/util/errors.ts";
import { lockFolder } from "../src/util/lock.ts";
import { progress } from "../src/util/progress.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";
import { encodeNpy } from "../src/io/npy.ts";
import { isGzip } from "../src/io/gzip.ts";
import { sha256Hex } from "../src/io/hash.ts";
import { VqTokenizer } from "../src/tokenizer/vq.ts";
import { PatchKMeansTokenizer } from "../src/tokenizer/patch_kmeans.ts";
import { labelArray, TOKEN_FOLDER_FORMAT } from "../src/data/token_files.ts";
import { ResumeStore } from "../src/sampler/resume_store.ts";

const USAGE = "Usage: deno task tokenize --tokenizer <VQ manifest .json | codebook .npy(.gz)> " +
  "--images DIR --size PIXELS --out DIR [--batch 16] [--limit N] [--per-class N] " +
  "[--threads N] [--fresh]";

const TOKENIZER_FIX = "Fix: pass a VQ tokenizer manifest (format parlab-tokenizer/1, e.g. " +
  "fixtures/tokenizers/vq-tiny16.tokenizer.json, written by python -m python.vq) or a patch " +
  "k-means codebook (.npy/.npy.gz, e.g. fixtures/emoji/codebook.npy.gz)";

const Flags = z.object({
  tokenizer: z.string({
    error: "is required (a VQ tokenizer manifest .json, or a patch k-means codebook .npy/.npy.gz)",
  }).min(1, "is empty (an unset shell variable?)"),
  images: z.string({
    error: "is required (a folder of pictures: <class>/<file> folders, or flat)",
  }).min(1, "is empty (an unset shell variable?)"),
  size: numberFlag().pipe(z.number().int().positive().max(8192)).optional(),
  out: z.string({ error: "is required (the folder for tokens.npy, labels.npy, manifest.json)" })
    .min(1, "is empty (an unset shell variable?)"),
  batch: numberFlag().pipe(z.number().int().positive().max(4096)).default(16),
  limit: numberFlag().pipe(z.number().int().positive()).optional(),
  perClass: numberFlag().pipe(z.number().int().positive()).optional(),
  threads: numberFlag().pipe(z.number().int().positive().max(256)).optional(),
  fresh: z.boolean().default(false),
});

/** Names the pre-processing in the resume key: a change to it must not resume old batches. */
const PREPROCESSING_ID = "llamagen-center-crop-arr/1";

// ---------------------------------------------------------------------------------------------
// Pillow's resampling, bit for bit (src/libImaging/Resample.c, 8 bits per channel)
// ---------------------------------------------------------------------------------------------

/** A resampling filter of Pillow: its kernel and support radius at scale 1. */
interface Filter {
  support: number;
  fn: (x: number) => number;
}

/** Pillow's `Image.BOX`. */
const BOX: Filter = { support: 0.5, fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) };

/** Pillow's `Image.BICUBIC` (Keys' cubic convolution, a = -0.5), same operation order. */
const BICUBIC: Filter = {
  support: 2,
  fn: (x) => {
    const a = -0.5;
    if (x < 0) x = -x;
    if (x < 1) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
  },
};

/** Fixed-point bits of Pillow's 8-bit resampling coefficients (`32 - 8 - 2`). */
const PRECISION_BITS = 22;

/**
 * Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for a whole-axis box (in0 = 0,
 * in1 = inSize): per output pixel the first input index, the tap count, and the taps in
 * fixed point.
 */
function coefficients(inSize: number, outSize: number, filter: Filter) {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const one = 2 ** PRECISION_BITS;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1.0 / filterscale;
    let ww = 0;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    for (let x = 0; x < xmax; x++) {
      const w = filter.fn((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      if (ww !== 0) k[x] /= ww;
      kk[xx * ksize + x] = k[x] < 0 ? Math.trunc(-0.5 + k[x] * one) : Math.trunc(0.5 + k[x] * one);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, kk, ksize };
}

/** Pillow's `clip8`: the fixed-point sum to a byte. */
function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** An interleaved RGB picture (3 bytes a pixel, row-major). */
export interface RgbPicture {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Pillow's `Image.resize((outW, outH), filter)` of an RGB picture: a horizontal pass, then a
 * vertical one, each rounding to bytes, each skipped when that side keeps its size.
 */
export function resizePil(
  img: RgbPicture,
  outW: number,
  outH: number,
  filter: "box" | "bicubic",
): RgbPicture {
  const f = filter === "box" ? BOX : BICUBIC;
  const half = 1 << (PRECISION_BITS - 1);
  let { width: w, height: h, data: src } = img;
  if (outW !== w) {
    const { bounds, kk, ksize } = coefficients(w, outW, f);
    const dst = new Uint8Array(outW * h * 3);
    for (let y = 0; y < h; y++) {
      const row = y * w;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2];
        const xmax = bounds[xx * 2 + 1];
        let s0 = half, s1 = half, s2 = half;
        for (let x = 0; x < xmax; x++) {
          const kv = kk[xx * ksize + x];
          const p = (row + xmin + x) * 3;
          s0 += src[p] * kv;
          s1 += src[p + 1] * kv;
          s2 += src[p + 2] * kv;
        }
        const o = (y * outW + xx) * 3;
        dst[o] = clip8(s0);
        dst[o + 1] = clip8(s1);
        dst[o + 2] = clip8(s2);
      }
    }
    src = dst;
    w = outW;
  }
  if (outH !== h) {
    const { bounds, kk, ksize } = coefficients(h, outH, f);
    const dst = new Uint8Array(w * outH * 3);
    for (let yy = 0; yy < outH; yy++) {
      const ymin = bounds[yy * 2];
      const ymax = bounds[yy * 2 + 1];
      for (let xx = 0; xx < w; xx++) {
        let s0 = half, s1 = half, s2 = half;
        for (let y = 0; y < ymax; y++) {
          const kv = kk[yy * ksize + y];
          const p = ((ymin + y) * w + xx) * 3;
          s0 += src[p] * kv;
          s1 += src[p + 1] * kv;
          s2 += src[p + 2] * kv;
        }
        const o = (yy * w + xx) * 3;
        dst[o] = clip8(s0);
        dst[o + 1] = clip8(s1);
        dst[o + 2] = clip8(s2);
      }
    }
    src = dst;
    h = outH;
  }
  return { width: w, height: h, data: src };
}

/** Python 3's `round(x)` for x >= 0: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * ADM's `center_crop_arr` as LlamaGen's `extract_codes_c2i.py` applies it: while the short side
 * is at least `2 * size`, halve both sides (floor) with Pillow's BOX filter; then resize so the
 * short side is `size` (both sides `round(side * size / short)`, Python's rounding) with
 * Pillow's BICUBIC; then crop `size x size` at offset `((H - size) // 2, (W - size) // 2)`.
 * Returns `size * size * 3` bytes (RGB, row-major). Bit-exact with Pillow's 8-bit resampling.
 */
export function centerCropArr(img: RgbPicture, size: number): Uint8Array {
  let pic = img;
  while (Math.min(pic.width, pic.height) >= 2 * size) {
    pic = resizePil(pic, Math.floor(pic.width / 2), Math.floor(pic.height / 2), "box");
  }
  const scale = size / Math.min(pic.width, pic.height);
  const w = roundHalfEven(pic.width * scale);
  const h = roundHalfEven(pic.height * scale);
  if (w !== pic.width || h !== pic.height) pic = resizePil(pic, w, h, "bicubic");
  const top = Math.floor((pic.height - size) / 2);
  const left = Math.floor((pic.width - size) / 2);
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const from = ((top + y) * pic.width + left) * 3;
    out.set(pic.data.subarray(from, from + size * 3), y * size * 3);
  }
  return out;
}

/**
 * Decode a picture file with sharp to full-size 8-bit RGB, the way Pillow's
 * `Image.open(f).convert("RGB")` sees it where they can agree: embedded ICC profiles ignored, no
 * EXIF rotation, the first frame of an animation, greyscale replicated to RGB; pictures with
 * alpha are composited on white (Pillow's `convert` would drop the alpha instead). A file sharp
 * cannot decode (or a truncated one) throws.
 */
export async function decodePicture(bytes: Uint8Array): Promise<RgbPicture> {
  const sharp = await loadSharp();
  const image = sharp(bytes, { failOn: "error", ignoreIcc: true });
  if ((await image.metadata()).space === "cmyk") return await cmykToRgb(image);
  const { data, info } = await image
    .flatten({ background: { r: 255, g: 255, b: 255 } })
    .toColourspace("srgb")
    .removeAlpha()
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
    throw new Error(
      `decoded to ${info.width}x${info.height}x${info.channels} (${data.length} bytes), not RGB`,
    );
  }
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/**
 * A CMYK picture (some JPEGs) to RGB as Pillow's `convert("RGB")` does it, without a colour
 * profile: `nk = 255 - K`, each of R, G, B = `nk - round(C|M|Y * nk / 255)` (Pillow's
 * `cmyk2rgb` with its `MULDIV255`). libvips, like Pillow, un-inverts Adobe CMYK on load.
 */
async function cmykToRgb(
  image: ReturnType<Awaited<ReturnType<typeof loadSharp>>>,
): Promise<RgbPicture> {
  const { data, info } = await image.pipelineColourspace("cmyk").toColourspace("cmyk")
    .raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 4) throw new Error(`CMYK picture decoded to ${info.channels} channels`);
  const n = info.width * info.height;
  const out = new Uint8Array(n * 3);
  const muldiv255 = (a: number, b: number) => {
    const t = a * b + 128;
    return ((t >> 8) + t) >> 8;
  };
  for (let i = 0; i < n; i++) {
    const nk = 255 - data[i * 4 + 3];
    for (let c = 0; c < 3; c++) {
      const v = nk - muldiv255(data[i * 4 + c], nk);
      out[i * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { width: info.width, height: info.height, data: out };
}

/** A picture file to `size x size` RGB bytes: {@link decodePicture}, then {@link centerCropArr}. */
export async function preparePicture(bytes: Uint8Array, size: number): Promise<Uint8Array> {
  return centerCropArr(await decodePicture(bytes), size);
}

/**
 * torchvision's `ToTensor()` + `Normalize(0.5, 0.5)` of a byte, in float32 as PyTorch computes
 * it: `(float32(v / 255) - 0.5) / 0.5`, each step rounded to float32.
 */
export const PIXEL_TO_UNIT: Float32Array = (() => {
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.fround(Math.fround(v / 255) - 0.5) / 0.5;
  return lut;
})();

// ---------------------------------------------------------------------------------------------
// The image folder
// ---------------------------------------------------------------------------------------------

/** torchvision's `IMG_EXTENSIONS` (compared lower-case), so the file list equals ImageFolder's. */
export const IMAGE_EXTENSIONS = [
  ".jpg",
  ".jpeg",
  ".png",
  ".ppm",
  ".bmp",
  ".pgm",
  ".tif",
  ".tiff",
  ".webp",
] as const;

/** Python's string order (by code point), which JavaScript's default sort (UTF-16) is not. */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** A picture file of the folder and its label. */
export interface FolderFile {
  /** Path relative to the images folder, `/`-separated. */
  path: string;
  /** Class index. */
  label: number;
}

/** A file left out, and why. */
export interface SkippedFile {
  /** Path relative to the images folder. */
  file: string;
  reason: string;
}

/** What {@link listImageFolder} finds. */
export interface ImageFolderListing {
  /** `imagenet`: `<class>/<file>` (labels from the sorted class folders); `flat`: one class. */
  layout: "imagenet" | "flat";
  classNames: string[];
  /** Picture files in order: by class, then as torchvision walks a class folder. */
  files: FolderFile[];
  /** Files that are not pictures, or lie outside the class folders. */
  ignored: SkippedFile[];
}

const isHidden = (name: string) => name.startsWith(".");
const isImageName = (name: string) => {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
};

/** Entries of a folder; symbolic links followed (a broken link counts as a file). */
async function entries(dir: string): Promise<{ name: string; isDir: boolean }[]> {
  const out: { name: string; isDir: boolean }[] = [];
  for await (const e of Deno.readDir(dir)) {
    let isDir = e.isDirectory;
    if (e.isSymlink) {
      isDir = await Deno.stat(`${dir}/${e.name}`).then((s) => s.isDirectory, () => false);
    }
    out.push({ name: e.name, isDir });
  }
  return out;
}

/**
 * List an image folder like torchvision's `ImageFolder`: class folders are the sub-folders of
 * `root`, sorted by name (code point order, as Python sorts); inside a class, the folders of
 * `os.walk(followlinks=True)` sorted by path, and each one's files by name; only the extensions
 * of {@link IMAGE_EXTENSIONS}. A folder without sub-folders is flat: its own pictures, one class
 * named after it. Hidden names (starting with ".") are left out; other non-picture files, and
 * files beside the class folders, are listed in `ignored`.
 */
export async function listImageFolder(root: string): Promise<ImageFolderListing> {
  const real = await Deno.realPath(root);
  const top = (await entries(root)).filter((e) => !isHidden(e.name));
  const dirs = top.filter((e) => e.isDir).map((e) => e.name).sort(compareCodePoints);
  const ignored: SkippedFile[] = [];
  const notPicture = (file: string) => ({
    file,
    reason: `not a picture file (extension not one of ${IMAGE_EXTENSIONS.join(" ")})`,
  });
  if (dirs.length === 0) {
    const files: FolderFile[] = [];
    for (const name of top.map((e) => e.name).sort(compareCodePoints)) {
      if (isImageName(name)) files.push({ path: name, label: 0 });
      else ignored.push(notPicture(name));
    }
    const name = real.split("/").filter(Boolean).at(-1) ?? "images";
    return { layout: "flat", classNames: [name], files, ignored };
  }
  for (const e of top.filter((e) => !e.isDir).sort((a, b) => compareCodePoints(a.name, b.name))) {
    ignored.push({
      file: e.name,
      reason: "outside the class folders (the folder has class sub-folders, so only " +
        "<class>/<file> pictures are read)",
    });
  }
  const files: FolderFile[] = [];
  for (const [label, cls] of dirs.entries()) {
    // os.walk(followlinks=True), sorted by folder path; a link back up is not followed again.
    const folders: { rel: string; files: string[] }[] = [];
    const stack: { rel: string; up: Set<string> }[] = [{ rel: cls, up: new Set() }];
    while (stack.length > 0) {
      const { rel, up } = stack.pop()!;
      const abs = `${root}/${rel}`;
      const here = await Deno.realPath(abs).catch(() => abs);
      if (up.has(here)) continue;
      const inner = new Set(up).add(here);
      const names: string[] = [];
      for (const e of await entries(abs)) {
        if (isHidden(e.name)) continue;
        if (e.isDir) stack.push({ rel: `${rel}/${e.name}`, up: inner });
        else names.push(e.name);
      }
      folders.push({ rel, files: names.sort(compareCodePoints) });
    }
    folders.sort((a, b) => compareCodePoints(a.rel, b.rel));
    for (const f of folders) {
      for (const name of f.files) {
        const path = `${f.rel}/${name}`;
        if (isImageName(name)) files.push({ path, label });
        else ignored.push(notPicture(path));
      }
    }
  }
  ignored.sort((a, b) => compareCodePoints(a.file, b.file));
  return { layout: "imagenet", classNames: dirs, files, ignored };
}

// ---------------------------------------------------------------------------------------------
// The tokenizer
// ---------------------------------------------------------------------------------------------

/** A tokenizer as this program uses it. */
interface Encoder {
  kind: "vq" | "patch-kmeans";
  name: string;
  vocabSize: number;
  downsample: number;
  /** sha256 of the file named by --tokenizer (the VQ manifest, or the codebook). */
  sha256: string;
  /** Its absolute path. */
  path: string;
  /** Encode `size x size` RGB pictures to `[n, size/ds, size/ds]` codes. */
  encode(pictures: Uint8Array[], size: number): Promise<Uint16Array>;
  dispose(): Promise<void>;
}

async function openTokenizer(
  spec: string,
  options: { batch: number; threads?: number },
): Promise<Encoder> {
  const info = await Deno.stat(spec).catch(() => null);
  if (!info) throw new UsageError(`--tokenizer: ${spec} does not exist. ${TOKENIZER_FIX}`);
  if (!info.isFile) throw new UsageError(`--tokenizer: ${spec} is not a file. ${TOKENIZER_FIX}`);
  const path = await Deno.realPath(spec);
  const bytes = await Deno.readFile(path);
  const sha256 = await sha256Hex(bytes);
  const npyMagic = bytes.length >= 6 && bytes[0] === 0x93 &&
    new TextDecoder().decode(bytes.subarray(1, 6)) === "NUMPY";
  if (isGzip(bytes) || npyMagic) {
    const tok = flagError("--tokenizer", () => PatchKMeansTokenizer.fromBytes(bytes, spec));
    return {
      kind: "patch-kmeans",
      name: path.split("/").at(-1)!,
      vocabSize: tok.vocabSize,
      downsample: tok.downsample,
      sha256,
      path,
      encode: (pictures, size) => {
        const data = new Uint8Array(pictures.length * size * size * 3);
        pictures.forEach((p, i) => data.set(p, i * size * size * 3));
        return Promise.resolve(
          tok.encodeSync({ n: pictures.length, height: size, width: size, data }).tokens,
        );
      },
      dispose: () => Promise.resolve(),
    };
  }
  let json: Record<string, unknown> | null = null;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/^\uFEFF/, "");
    const parsed = text.trimStart().startsWith("{") ? JSON.parse(text) : null;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) json = parsed;
  } catch {
    json = null;
  }
  if (!json) {
    throw new UsageError(
      `--tokenizer: ${spec} is neither a VQ tokenizer manifest (JSON) nor a patch k-means ` +
        `codebook (.npy). ${TOKENIZER_FIX}`,
    );
  }
  if (json.format !== "parlab-tokenizer/1") {
    const named = json.format === "parlab-model/1" ? modelTokenizer(json, path) : null;
    throw new UsageError(
      `--tokenizer: ${spec} is ${
        typeof json.format === "string" ? `a "${json.format}" file` : "JSON without a format"
      }, not a tokenizer manifest. ${
        named ? `Fix: pass the tokenizer the model names: --tokenizer ${named}` : TOKENIZER_FIX
      }`,
    );
  }
  const vq = await flagError(
    "--tokenizer",
    () => VqTokenizer.load(path, { batchSize: options.batch, threads: options.threads }),
  );
  return {
    kind: "vq",
    name: vq.manifest.name,
    vocabSize: vq.vocabSize,
    downsample: vq.downsample,
    sha256,
    path,
    encode: (pictures, size) => {
      const plane = size * size;
      const x = new Float32Array(pictures.length * 3 * plane);
      pictures.forEach((p, i) => {
        for (let c = 0; c < 3; c++) {
          const o = (i * 3 + c) * plane;
          for (let q = 0; q < plane; q++) x[o + q] = PIXEL_TO_UNIT[p[q * 3 + c]];
        }
      });
      return vq.encodePixels(x, pictures.length, size, size);
    },
    dispose: () => vq.dispose(),
  };
}

/** The tokenizer file a model manifest names, resolved beside it, or null. */
function modelTokenizer(json: Record<string, unknown>, manifestPath: string): string | null {
  const t = json.tokenizer as Record<string, unknown> | null | undefined;
  const rel = typeof t?.manifest === "string"
    ? t.manifest
    : typeof t?.codebook === "string"
    ? t.codebook
    : null;
  if (!rel) return null;
  if (rel.startsWith("/")) return rel;
  const parts = manifestPath.split("/").slice(0, -1);
  for (const p of rel.split("/")) {
    if (p === "..") parts.pop();
    else if (p !== ".") parts.push(p);
  }
  return parts.join("/");
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

/** An absolute, normalised path (the folder need not exist). */
function absolute(path: string): string {
  const parts: string[] = [];
  for (const p of (path.startsWith("/") ? path : `${Deno.cwd()}/${path}`).split("/")) {
    if (p === "..") parts.pop();
    else if (p !== "." && p !== "") parts.push(p);
  }
  return `/${parts.join("/")}`;
}

async function checkImagesFolder(images: string): Promise<string> {
  const info = await Deno.stat(images).catch(() => null);
  if (!info) {
    throw new UsageError(
      `--images: ${images} does not exist. Fix: pass a folder of pictures (<class>/<file> ` +
        "folders, or the pictures themselves)",
    );
  }
  if (!info.isDirectory) {
    throw new UsageError(
      `--images: ${images} is a file, not a folder. Fix: pass the folder that holds the ` +
        "pictures (<class>/<file> folders, or the pictures themselves)",
    );
  }
  return await Deno.realPath(images);
}

async function checkOutFolder(out: string, imagesReal: string): Promise<string> {
  const resolved = await Deno.realPath(out).catch(() => absolute(out));
  const home = Deno.env.get("HOME");
  const homeReal = home ? await Deno.realPath(home).catch(() => home) : null;
  if (resolved === "/" || resolved === homeReal) {
    throw new UsageError(
      `--out: "${out}" is ${resolved === homeReal ? "your home folder" : "the file system root"}` +
        "; parlab writes its files there. Fix: pass a folder of its own, e.g. --out out/tokens",
    );
  }
  const info = await Deno.stat(out).catch(() => null);
  if (info && !info.isDirectory) {
    throw new UsageError(
      `--out: ${out} is an existing file. Fix: pass a folder (it is created when missing)`,
    );
  }
  if (resolved === imagesReal || resolved.startsWith(`${imagesReal}/`)) {
    throw new UsageError(
      `--out: ${out} lies inside --images, where its files would be read as pictures next ` +
        "time. Fix: pass a folder outside the image folder",
    );
  }
  return resolved;
}

/** What `<start>.files.json` beside a saved batch records: which files the batch covered. */
interface BatchFiles {
  /** First file index after the previous saved batch. */
  fileStart: number;
  /** One past the last file index of this batch. */
  fileEnd: number;
  /** Grids in the batch (files minus skipped). */
  grids: number;
  /** Unreadable files among them, by index. */
  skipped: { index: number; reason: string }[];
}

/**
 * Follow the saved batches' file records from grid 0: how many of the resumed grids have a
 * consistent record, which file comes next, and the files skipped so far. Batch files beyond a
 * broken record are deleted, so a later resume cannot chain onto them.
 */
async function resumedFiles(
  parts: ResumeStore,
  grids: number,
  files: number,
): Promise<{ grids: number; fileNext: number; skipped: Map<number, string> }> {
  const skipped = new Map<number, string>();
  let at = 0;
  let fileNext = 0;
  while (at < grids) {
    let rec: BatchFiles;
    try {
      rec = JSON.parse(await Deno.readTextFile(`${parts.dir}/${at}.files.json`));
    } catch {
      break;
    }
    const ok = rec && rec.fileStart === fileNext && Number.isInteger(rec.fileEnd) &&
      rec.fileEnd > rec.fileStart && rec.fileEnd <= files && Number.isInteger(rec.grids) &&
      rec.grids >= 1 && at + rec.grids <= grids && Array.isArray(rec.skipped) &&
      rec.fileEnd - rec.fileStart - rec.skipped.length === rec.grids;
    if (!ok) break;
    for (const s of rec.skipped) skipped.set(s.index, s.reason);
    at += rec.grids;
    fileNext = rec.fileEnd;
  }
  if (at < grids) {
    console.warn(
      `resume: the saved batches from picture ${at} on have no matching file record; ` +
        "encoding from there again",
    );
    for await (const e of Deno.readDir(parts.dir)) {
      const m = /^(\d+)\.(npy|json|files\.json)$/.exec(e.name);
      if (m && Number(m[1]) >= at) await Deno.remove(`${parts.dir}/${e.name}`);
    }
  }
  return { grids: at, fileNext, skipped };
}

/** One decoded batch: per file, its pictures bytes or why it cannot be used. */
type Loaded = (Uint8Array | string)[];

async function loadBatch(root: string, files: FolderFile[], size: number): Promise<Loaded> {
  const out: Loaded = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      try {
        out[i] = await preparePicture(await Deno.readFile(`${root}/${files[i].path}`), size);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        const hint = /\.(bmp|ppm|pgm)$/i.test(files[i].path)
          ? " (sharp reads no BMP, PPM or PGM: convert them to PNG)"
          : "";
        out[i] = (msg.split("\n")[0].trim() || "cannot be decoded") + hint;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, files.length) }, worker));
  return out;
}

function concat(chunks: Uint16Array[], total: number): Uint16Array {
  const all = new Uint16Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, Flags, ["fresh"], USAGE);
  if (f.size === undefined) {
    throw new UsageError(
      "--size: is required (the picture side in pixels after the centre crop, a multiple of " +
        `the tokenizer's downsample). Fix: add e.g. --size 384 (24x24 VQ-16 tokens). ${USAGE}`,
    );
  }
  const size = f.size;
  const imagesReal = await checkImagesFolder(f.images);
  const outReal = await checkOutFolder(f.out, imagesReal);
  const listing = await listImageFolder(imagesReal);
  if (listing.files.length === 0) {
    throw new UsageError(
      `--images: ${f.images} has no pictures (looked for ${IMAGE_EXTENSIONS.join(" ")} ` +
        `${listing.layout === "flat" ? "in the folder" : "in its class folders"}` +
        `${
          listing.ignored.length
            ? `; ${listing.ignored.length} other file${
              listing.ignored.length > 1 ? "s" : ""
            } ignored`
            : ""
        }). ` +
        "Fix: pass the folder that holds the pictures or their <class>/ folders",
    );
  }
  const tok = await openTokenizer(f.tokenizer, { batch: f.batch, threads: f.threads });
  try {
    if (size % tok.downsample !== 0 || size < tok.downsample) {
      const lo = Math.max(tok.downsample, Math.floor(size / tok.downsample) * tok.downsample);
      throw new UsageError(
        `--size: ${size} is not a multiple of the tokenizer's ${tok.downsample}-pixel tokens ` +
          `(${tok.name}). Fix: e.g. --size ${lo} or --size ${lo + tok.downsample}`,
      );
    }
    let files = listing.files;
    if (f.perClass !== undefined) {
      const seen = new Map<number, number>();
      files = files.filter((x) => {
        const n = seen.get(x.label) ?? 0;
        seen.set(x.label, n + 1);
        return n < f.perClass!;
      });
    }
    if (f.limit !== undefined) files = files.slice(0, f.limit);
    const unlock = await lockFolder(f.out, "--out", (note) => console.log(note));
    try {
      await tokenizeInto(f, size, outReal, imagesReal, listing, files, tok);
    } finally {
      await unlock();
    }
  } finally {
    await tok.dispose();
  }
}

async function tokenizeInto(
  f: z.infer<typeof Flags>,
  size: number,
  outReal: string,
  imagesReal: string,
  listing: ImageFolderListing,
  files: FolderFile[],
  tok: Encoder,
): Promise<void> {
  const t0 = performance.now();
  const rows = size / tok.downsample;
  const cells = rows * rows;
  const enc = new TextEncoder();
  const key = {
    tokenizer: tok.sha256,
    kind: tok.kind,
    size,
    preprocessing: PREPROCESSING_ID,
    files: await sha256Hex(enc.encode(JSON.stringify(files.map((x) => [x.path, x.label])))),
    count: files.length,
    classes: await sha256Hex(enc.encode(JSON.stringify(listing.classNames))),
  };
  const parts = new ResumeStore(`${f.out}/parts`, cells);
  const saved = await parts.load(key, files.length, { onMismatch: "refuse", fresh: f.fresh });
  // An earlier run's manifest goes now: until the new one is written, the folder reads as
  // unfinished rather than as an old manifest beside new tokens.
  await Deno.remove(`${f.out}/manifest.json`).catch(() => {});
  const resumed = saved
    ? await resumedFiles(parts, saved.length / cells, files.length)
    : { grids: 0, fileNext: 0, skipped: new Map<number, string>() };
  const chunks: Uint16Array[] = [];
  if (resumed.grids > 0) {
    chunks.push(Uint16Array.from(saved!.subarray(0, resumed.grids * cells)));
    console.log(
      `resuming: ${resumed.grids} pictures (${resumed.fileNext} of ${files.length} files) were ` +
        `encoded before (${parts.dir})`,
    );
  }
  const skipped = resumed.skipped;
  let grids = resumed.grids;
  let fileNext = resumed.fileNext;
  const stopAfter = Number(Deno.env.get("PARLAB_TOKENIZE_STOP_AFTER") ?? "0");
  let savedNow = 0;
  const bar = progress(`tokenizing ${tok.name} @${size}`, files.length);
  bar.update(fileNext);
  const starts: number[] = [];
  for (let s = fileNext; s < files.length; s += f.batch) starts.push(s);
  let pending = starts.length
    ? loadBatch(imagesReal, files.slice(starts[0], starts[0] + f.batch), size)
    : null;
  let recordStart = fileNext; // first file not covered by a saved batch record
  let pendingSkips: { index: number; reason: string }[] = [];
  for (let b = 0; b < starts.length; b++) {
    const start = starts[b];
    const end = Math.min(files.length, start + f.batch);
    const loaded = await pending!;
    pending = b + 1 < starts.length
      ? loadBatch(imagesReal, files.slice(starts[b + 1], starts[b + 1] + f.batch), size)
      : null;
    const pictures: Uint8Array[] = [];
    loaded.forEach((x, i) => {
      if (typeof x === "string") {
        skipped.set(start + i, x);
        pendingSkips.push({ index: start + i, reason: x });
      } else pictures.push(x);
    });
    if (pictures.length > 0) {
      const tokens = await tok.encode(pictures, size);
      const rec: BatchFiles = {
        fileStart: recordStart,
        fileEnd: end,
        grids: pictures.length,
        skipped: pendingSkips,
      };
      // The file record first: the store trusts a batch only once its own record is written.
      await writeFileAtomic(`${parts.dir}/${grids}.files.json`, JSON.stringify(rec));
      await parts.save(grids, Int32Array.from(tokens));
      chunks.push(tokens);
      grids += pictures.length;
      recordStart = end;
      pendingSkips = [];
      if (stopAfter > 0 && ++savedNow >= stopAfter) {
        bar.stop();
        console.error(`tokenize: stopped after ${savedNow} batches (PARLAB_TOKENIZE_STOP_AFTER)`);
        Deno.exit(3);
      }
    }
    fileNext = end;
    bar.update(fileNext, `${skipped.size} skipped`);
  }
  bar.stop();

  const unreadable: SkippedFile[] = [...skipped.entries()].sort((a, b) => a[0] - b[0])
    .map(([i, reason]) => ({ file: files[i].path, reason: `unreadable: ${reason}` }));
  if (grids === 0) {
    await parts.remove();
    const [index, why] = [...skipped.entries()][0];
    throw new UsageError(
      `--images: none of the ${files.length} pictures in ${f.images} could be read ` +
        `(${files[index].path}: ${why}). Fix: check the files (sharp reads JPEG, PNG, WebP, ` +
        "TIFF), or pass another folder",
    );
  }
  const labels: number[] = [];
  files.forEach((x, i) => {
    if (!skipped.has(i)) labels.push(x.label);
  });
  const tokens = concat(chunks, grids * cells);
  const C = listing.classNames.length;
  const perClass = listing.classNames.map((name, label) => ({
    label,
    name,
    images: 0,
    skipped: 0,
  }));
  for (const l of labels) perClass[l].images++;
  for (const i of skipped.keys()) perClass[files[i].label].skipped++;
  const skippedAll = [...listing.ignored, ...unreadable]
    .sort((a, b) => compareCodePoints(a.file, b.file));

  await writeFileAtomic(
    `${f.out}/tokens.npy`,
    encodeNpy({ dtype: "uint16", shape: [grids, rows, rows], data: tokens }, false),
  );
  const labelData = labelArray(labels, C);
  await writeFileAtomic(
    `${f.out}/labels.npy`,
    encodeNpy({ ...labelData, shape: [grids] }, false),
  );
  await writeFileAtomic(`${f.out}/skipped.json`, JSON.stringify(skippedAll, null, 1));
  const seconds = (performance.now() - t0) / 1000;
  const manifest = {
    format: TOKEN_FOLDER_FORMAT,
    count: grids,
    grid: { height: rows, width: rows },
    vocabSize: tok.vocabSize,
    tokens: "tokens.npy",
    labels: "labels.npy",
    labelsDtype: labelData.dtype,
    numClasses: C,
    classNames: listing.classNames,
    perClass,
    tokenizer: {
      kind: tok.kind,
      name: tok.name,
      path: tok.path,
      sha256: tok.sha256,
      downsample: tok.downsample,
      vocabSize: tok.vocabSize,
    },
    size,
    preprocessing: {
      id: PREPROCESSING_ID,
      recipe: "LlamaGen autoregressive/train/extract_codes_c2i.py: ADM center_crop_arr " +
        "(Pillow BOX halving while the short side >= 2 x size, BICUBIC resize of the short side " +
        "to size, centre crop), ToTensor + Normalize(0.5, 0.5); no flipped copy",
      decode: "sharp (libvips): embedded ICC profiles ignored, no EXIF rotation, first frame",
      alpha: "composited on white",
      pixels: tok.kind === "vq"
        ? "float32 (v / 255 - 0.5) / 0.5, as torchvision"
        : "uint8 RGB patches",
    },
    source: {
      folder: imagesReal,
      layout: listing.layout,
      files: files.length,
      filesInFolder: listing.files.length,
      limit: f.limit ?? null,
      perClassLimit: f.perClass ?? null,
      filesSha256: key.files,
    },
    skipped: skippedAll,
    resumedImages: resumed.grids,
    seconds: Number(seconds.toFixed(2)),
    created: new Date().toISOString(),
  };
  await writeFileAtomic(`${f.out}/manifest.json`, JSON.stringify(manifest, null, 1));
  await parts.remove();
  const encoded = grids - resumed.grids;
  console.log(
    `tokenize: ${grids} pictures of ${C} ${C === 1 ? "class" : "classes"} -> ` +
      `[${grids}, ${rows}, ${rows}] tokens (K = ${tok.vocabSize}, ${tok.name})` +
      `${resumed.grids ? `, ${resumed.grids} resumed` : ""}; ${unreadable.length} unreadable, ` +
      `${listing.ignored.length} other file${listing.ignored.length === 1 ? "" : "s"} skipped; ` +
      `${seconds.toFixed(1)} s` +
      (encoded > 0 ? `, ${(encoded / seconds).toFixed(1)} pictures/s` : ""),
  );
  console.log(`wrote ${outReal}/tokens.npy, labels.npy, manifest.json, skipped.json`);
}

if (import.meta.main) await runMain("tokenize", main);
