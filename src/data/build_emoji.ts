/**
 * Builds the emoji token fixtures from the npm packages: pictures -> 48x48 on white -> patch
 * k-means codebook (fit on train) -> token grids, labels, manifest, plus a picture of originals
 * next to reconstructions. Everything is deterministic: the same options rebuild the same bytes.
 * @module
 */
import { sha256Hex } from "../io/hash.ts";
import {
  DEFAULT_VAL_HASH_FRACTION,
  EMOJI_DATASOURCE_VERSION,
  EMOJI_SETS,
  emojiClassNames,
  type EmojiItem,
  emojiPackageDir,
  listEmojiItems,
  splitOf,
} from "./emoji_source.ts";
import { loadPictures } from "./images.ts";
import type { EmojiManifest } from "./emoji_fixture.ts";
import { PatchKMeansTokenizer } from "../tokenizer/patch_kmeans.ts";
import type { ImageBatch, TokenGrids } from "../media/batches.ts";
import { psnrOf } from "../tokenizer/quality.ts";
import { encodeNpy } from "../io/npy.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { progress } from "../util/progress.ts";

/** Settings of a fixture build; defaults give the committed fixtures. */
export interface EmojiBuildOptions {
  /** Folder the fixture files are written to. */
  outDir: string;
  /**
   * Called with up to 4 val pictures per class and their reconstructions (e.g. to draw the
   * reconstruction sheet, as `deno task data` does); not called when absent.
   */
  showcase?: (originals: ImageBatch, reconstructions: ImageBatch) => Promise<void>;
  /** Codebook size K (default 1024). */
  k?: number;
  /** Patch side P (default 2). */
  patch?: number;
  /** Picture side after resizing (default 48). */
  imageSize?: number;
  /** Training patches sampled for k-means (default 200 000). */
  samplePatches?: number;
  /** Lloyd iterations (default 20). */
  iterations?: number;
  /** Seed of the patch sample and k-means++ (default 0). */
  seed?: number;
  /** Hash-range fraction of base emoji held out (default {@link DEFAULT_VAL_HASH_FRACTION}). */
  valHashFraction?: number;
  /** Use only the first this many base emoji (in emoji.json sort order): a small slice for tests. */
  maxEmoji?: number;
  /** node_modules folder holding the emoji packages (default: the project's). */
  nodeModules?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** Names of the files a build writes into `outDir`. */
export const EMOJI_FIXTURE_FILES = [
  "codebook.npy.gz",
  "train.tokens.npy.gz",
  "train.labels.npy.gz",
  "val.tokens.npy.gz",
  "val.labels.npy.gz",
  "items.json",
  "manifest.json",
] as const;

interface SplitData {
  items: EmojiItem[];
  images: ImageBatch;
  labels: Uint8Array;
}

/** Round for the manifest so it reads well (values are deterministic either way). */
function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/**
 * List both sets' pictures, emoji-major: each picture's twitter drawing, then google's (the
 * order the emoji fixtures and the video clips draw from); `maxEmoji` keeps the first base emoji.
 */
export async function listEmojiPictures(
  options: Pick<EmojiBuildOptions, "maxEmoji" | "nodeModules">,
): Promise<{ items: EmojiItem[]; classNames: string[] }> {
  const perSet: EmojiItem[][] = [];
  let classNames: string[] | null = null;
  for (const set of EMOJI_SETS) {
    const dir = await emojiPackageDir(set, options.nodeModules);
    const names = await emojiClassNames(dir);
    if (classNames && names.join("\n") !== classNames.join("\n")) {
      throw new Error(`emoji-datasource-${set} lists different categories: ${names.join(", ")}`);
    }
    classNames = names;
    perSet.push(await listEmojiItems(set, dir));
  }
  let allowed: Set<string> | null = null;
  if (options.maxEmoji !== undefined) {
    const bases: string[] = [];
    for (const it of perSet[0]) {
      if (bases.length >= options.maxEmoji) break;
      if (bases[bases.length - 1] !== it.baseUnified) bases.push(it.baseUnified);
    }
    allowed = new Set(bases);
  }
  const items: EmojiItem[] = [];
  const longest = Math.max(...perSet.map((l) => l.length));
  for (let i = 0; i < longest; i++) {
    for (const list of perSet) {
      const it = list[i];
      if (it && (!allowed || allowed.has(it.baseUnified))) items.push(it);
    }
  }
  return { items, classNames: classNames! };
}

function countSplit(data: SplitData, classNames: string[]) {
  const perClass: Record<string, number> = {};
  for (const name of classNames) perClass[name] = 0;
  for (let i = 0; i < data.labels.length; i++) perClass[classNames[data.labels[i]]]++;
  const perSet: Record<string, number> = {};
  for (const set of EMOJI_SETS) perSet[set] = 0;
  for (const it of data.items) perSet[it.set]++;
  return { total: data.items.length, perClass, perSet };
}

/** Pick up to `perClass` pictures of every class (first in order) for the reconstruction sheet. */
function pickShowcase(data: SplitData, classes: number, perClass: number): number[] {
  const taken = new Array(classes).fill(0);
  const picks: number[] = [];
  for (let i = 0; i < data.labels.length; i++) {
    if (taken[data.labels[i]] < perClass) {
      taken[data.labels[i]]++;
      picks.push(i);
    }
  }
  return picks.sort((a, b) => data.labels[a] - data.labels[b] || a - b);
}

function selectImages(images: ImageBatch, picks: number[]): ImageBatch {
  const per = images.height * images.width * 3;
  const data = new Uint8Array(picks.length * per);
  picks.forEach((i, j) => data.set(images.data.subarray(i * per, (i + 1) * per), j * per));
  return { n: picks.length, height: images.height, width: images.width, data };
}

/**
 * Build the fixtures into `options.outDir`; returns the manifest written there.
 * @example
 * const manifest = await buildEmojiFixtures({ outDir: "fixtures/emoji", log: console.log });
 */
export async function buildEmojiFixtures(options: EmojiBuildOptions): Promise<EmojiManifest> {
  const log = options.log ?? (() => {});
  const k = options.k ?? 1024;
  const patch = options.patch ?? 2;
  const imageSize = options.imageSize ?? 48;
  const samplePatches = options.samplePatches ?? 200_000;
  const iterations = options.iterations ?? 20;
  const seed = options.seed ?? 0;
  const valHashFraction = options.valHashFraction ?? DEFAULT_VAL_HASH_FRACTION;
  if (imageSize % patch !== 0) {
    throw new Error(`imageSize ${imageSize} is not divisible by patch ${patch}`);
  }

  const { items, classNames } = await listEmojiPictures(options);
  log(`listed ${items.length} pictures in ${classNames.length} classes`);
  const bar = progress("pictures", items.length, { quiet: options.log === undefined });
  const loaded = await loadPictures(items.map((it) => it.file), imageSize, 8, (done) => {
    if (done % 100 === 0 || done === items.length) bar.update(done);
  });
  bar.stop();
  if (loaded.skipped.length > 0) {
    const first = loaded.skipped.slice(0, 3).map((s) => `${s.source}: ${s.reason}`).join("; ");
    console.warn(`warning: skipped ${loaded.skipped.length} unreadable pictures (${first})`);
  }
  log(`loaded ${loaded.images.n} pictures (${loaded.skipped.length} skipped)`);

  const per = imageSize * imageSize * 3;
  const classIndex = new Map(classNames.map((c, i) => [c, i]));
  const splits: Record<"train" | "val", number[]> = { train: [], val: [] };
  loaded.kept.forEach((itemIndex, j) => {
    splits[splitOf(items[itemIndex].baseUnified, valHashFraction)].push(j);
  });
  const make = (rows: number[]): SplitData => {
    const data = new Uint8Array(rows.length * per);
    const labels = new Uint8Array(rows.length);
    const its: EmojiItem[] = [];
    rows.forEach((j, r) => {
      data.set(loaded.images.data.subarray(j * per, (j + 1) * per), r * per);
      const it = items[loaded.kept[j]];
      const c = classIndex.get(it.category);
      if (c === undefined) {
        throw new Error(`category ${it.category} of ${it.file} is not in categories.json`);
      }
      labels[r] = c;
      its.push(it);
    });
    return {
      items: its,
      images: { n: rows.length, height: imageSize, width: imageSize, data },
      labels,
    };
  };
  const train = make(splits.train);
  const val = make(splits.val);
  if (train.images.n === 0 || val.images.n === 0) {
    throw new Error(
      `split left train=${train.images.n}, val=${val.images.n} pictures; use more emoji`,
    );
  }
  log(`split: train ${train.images.n}, val ${val.images.n}`);

  const history: number[] = [];
  const tokenizer = PatchKMeansTokenizer.train(train.images, {
    k,
    patch,
    samplePatches,
    iterations,
    seed,
    onIteration: (it, msd, moved) => {
      history.push(round4(msd));
      log(
        `k-means iteration ${it + 1}/${iterations}: mean squared distance ${
          msd.toFixed(2)
        }, moved ${moved}`,
      );
    },
  });
  const trainTokens = tokenizer.encodeSync(train.images);
  const valTokens = tokenizer.encodeSync(val.images);
  const valRecon = tokenizer.decodeSync(valTokens);
  const psnrVal = psnrOf(val.images, valRecon);
  const psnrTrain = psnrOf(train.images, tokenizer.decodeSync(trainTokens));
  log(
    `reconstruction PSNR: val ${psnrVal.psnr.toFixed(2)} dB (mean per picture ${
      psnrVal.meanPerImage.toFixed(2)
    }), train ${psnrTrain.psnr.toFixed(2)} dB`,
  );

  const grid = imageSize / patch;
  const tokensNpy = (t: TokenGrids) =>
    encodeNpy({ dtype: "uint16", shape: [t.n, t.height, t.width], data: t.tokens }, true);
  const labelsNpy = (l: Uint8Array) =>
    encodeNpy({ dtype: "uint8", shape: [l.length], data: l }, true);
  const itemsJson = JSON.stringify({
    note: "picture i of a split is <set>:<unified code points>",
    train: train.items.map((it) => `${it.set}:${it.unified}`),
    val: val.items.map((it) => `${it.set}:${it.unified}`),
  }) + "\n";
  const payload: [string, Uint8Array][] = [
    ["codebook.npy.gz", encodeNpy(tokenizer.toNpy(), true)],
    ["train.tokens.npy.gz", tokensNpy(trainTokens)],
    ["train.labels.npy.gz", labelsNpy(train.labels)],
    ["val.tokens.npy.gz", tokensNpy(valTokens)],
    ["val.labels.npy.gz", labelsNpy(val.labels)],
    ["items.json", new TextEncoder().encode(itemsJson)],
  ];
  const files: Record<string, { sha256: string; bytes: number }> = {};
  for (const [name, bytes] of payload) {
    files[name] = { sha256: await sha256Hex(bytes), bytes: bytes.length };
  }

  const manifest: EmojiManifest = {
    format: "parlab-emoji-tokens/1",
    classNames,
    K: k,
    patch,
    grid: { height: grid, width: grid },
    imageSize,
    psnrVal: round4(psnrVal.psnr),
    psnrValMeanPerImage: round4(psnrVal.meanPerImage),
    psnrTrain: round4(psnrTrain.psnr),
    sources: EMOJI_SETS.map((set) => ({
      package: `emoji-datasource-${set}`,
      version: EMOJI_DATASOURCE_VERSION,
      images: `img/${set}/64/*.png (skin-tone variants included, category "Component" left out)`,
    })),
    split: {
      method:
        "val iff hash32(base emoji unified code points) / 2^32 < valHashFraction (FNV-1a + murmur3 fmix); skin tones and both drawing sets of one emoji share a side",
      valHashFraction,
    },
    counts: {
      train: countSplit(train, classNames),
      val: countSplit(val, classNames),
      skipped: loaded.skipped.length,
    },
    kmeans: {
      init: "k-means++ then Lloyd on a seeded uniform sample of training patches",
      samplePatches,
      iterations,
      seed,
      meanSquaredDistance: history,
    },
    files,
  };
  const out = options.outDir.endsWith("/") ? options.outDir : `${options.outDir}/`;
  for (const [name, bytes] of payload) await writeFileAtomic(out + name, bytes);
  await writeFileAtomic(out + "manifest.json", JSON.stringify(manifest, null, 2) + "\n");
  log(`wrote ${EMOJI_FIXTURE_FILES.length} files to ${out}`);

  if (options.showcase) {
    const picks = pickShowcase(val, classNames.length, 4);
    await options.showcase(selectImages(val.images, picks), selectImages(valRecon, picks));
  }
  return manifest;
}
