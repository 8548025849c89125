/**
 * Builds the moving-emoji clip fixtures (fixtures/video/, `deno task data:video`): clips of 5
 * frames of 24x24 pixels in which an emoji slides, bounces, zooms or spins (the class), sometimes
 * with a smaller emoji sliding behind it; tokenized frame by frame with the fixtures/emoji16
 * codebook (patch 3, K 1024: 8x8 tokens a frame). Emoji come from the same npm packages and the
 * same train/val split by base emoji as the still pictures. Deterministic: the same options
 * rebuild the same bytes.
 * @module
 */
import { sha256Hex } from "../io/hash.ts";
import { encodeNpy } from "../io/npy.ts";
import { gzip } from "../io/gzip.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { progress } from "../util/progress.ts";
import { Rng } from "../util/rng.ts";
import { asFrames, type ImageBatch } from "../media/batches.ts";
import { psnrOf } from "../tokenizer/quality.ts";
import {
  DEFAULT_VAL_HASH_FRACTION,
  EMOJI_DATASOURCE_VERSION,
  EMOJI_SETS,
  type EmojiItem,
  hash32,
  splitOf,
} from "./emoji_source.ts";
import { listEmojiPictures } from "./build_emoji.ts";
import { asDirUrl, loadPatchTokenizer } from "./emoji_fixture.ts";
import {
  CLIP_GENERATOR,
  drawClipMotion,
  type Layer,
  MOTION_CLASSES,
  posesOf,
  renderClip,
  type Sprite,
} from "./clip_motion.ts";
import { loadSprites } from "./clip_sprites.ts";
import { VIDEO_FORMAT, type VideoManifest, type VideoSplit } from "./video_fixture.ts";

/** The emoji16 fixtures, whose codebook tokenizes the frames. */
export const EMOJI16_FIXTURE_DIR = new URL("../../fixtures/emoji16/", import.meta.url);

/** Name of the per-clip record file (emoji and motion parameters of every clip). */
export const CLIPS_FILE = "clips.json.gz";

/** Names of the files a build writes into `outDir`. */
export const VIDEO_FIXTURE_FILES = [
  "train.tokens.npy.gz",
  "train.labels.npy.gz",
  "val.tokens.npy.gz",
  "val.labels.npy.gz",
  CLIPS_FILE,
  "manifest.json",
] as const;

/** One class's showcase: a few val clips and their token reconstructions (frames 5). */
export interface ClipShowcaseRow {
  /** Motion type. */
  className: string;
  /** The rendered clips. */
  originals: ImageBatch;
  /** The same clips decoded from their tokens. */
  reconstructions: ImageBatch;
}

/** Settings of a clip build; defaults give the committed fixtures. */
export interface VideoBuildOptions {
  /** Folder the fixture files are written to. */
  outDir: string;
  /** Training clips (default 6000). */
  train?: number;
  /** Validation clips (default 800). */
  val?: number;
  /** Seed of every draw (default 0). */
  seed?: number;
  /** Folder of the patch k-means fixtures whose codebook tokenizes (default fixtures/emoji16). */
  tokenizerDir?: string | URL;
  /** Hash-range fraction of base emoji held out (default: the emoji fixtures'). */
  valHashFraction?: number;
  /** node_modules folder holding the emoji packages (default: the project's). */
  nodeModules?: string;
  /** Called with 3 val clips per class and their reconstructions; not called when absent. */
  showcase?: (rows: ClipShowcaseRow[]) => Promise<void>;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** Emoji one split may draw from: its base emoji (listing order) and each one's drawings. */
export interface EmojiPool {
  /** Base code points, e.g. "1F600", in the packages' sort order. */
  bases: string[];
  /** Every drawing (set x skin tone) of each base emoji. */
  drawings: Map<string, EmojiItem[]>;
}

/** One emoji of a clip and how it moves. */
export interface PlannedLayer extends Layer {
  /** The picture drawn. */
  item: EmojiItem;
}

/** Everything that decides a clip before rendering. */
export interface PlannedClip {
  /** Class index into MOTION_CLASSES (the main emoji's motion). */
  label: number;
  /** The main emoji. */
  main: PlannedLayer;
  /** The emoji sliding behind it, if any. */
  distractor?: PlannedLayer;
}

/** Split the listed pictures into per-split pools by base emoji (as the emoji fixtures split). */
export function emojiPools(
  items: EmojiItem[],
  valHashFraction: number = DEFAULT_VAL_HASH_FRACTION,
): Record<VideoSplit, EmojiPool> {
  const pools: Record<VideoSplit, EmojiPool> = {
    train: { bases: [], drawings: new Map() },
    val: { bases: [], drawings: new Map() },
  };
  for (const it of items) {
    const pool = pools[splitOf(it.baseUnified, valHashFraction)];
    let list = pool.drawings.get(it.baseUnified);
    if (!list) {
      list = [];
      pool.drawings.set(it.baseUnified, list);
      pool.bases.push(it.baseUnified);
    }
    list.push(it);
  }
  return pools;
}

/** Uniform over base emoji, then over that emoji's drawings (skin tones would swamp it else). */
function drawEmoji(rng: Rng, pool: EmojiPool, not?: string): EmojiItem {
  for (;;) {
    const base = pool.bases[rng.int(pool.bases.length)];
    if (base === not && pool.bases.length > 1) continue;
    const list = pool.drawings.get(base)!;
    return list[rng.int(list.length)];
  }
}

/**
 * Plan `n` clips of one split. Every block of 4 consecutive clips holds each class once, in a
 * seeded order (balanced at any multiple of 4); clip i draws from its own generator, seeded by
 * (seed, split, i), so a longer build starts with the clips of a shorter one.
 */
export function planClips(
  split: VideoSplit,
  n: number,
  seed: number,
  pool: EmojiPool,
): PlannedClip[] {
  if (pool.bases.length === 0) throw new Error(`no emoji in the ${split} split`);
  const classes = MOTION_CLASSES.length;
  const clips: PlannedClip[] = [];
  let order: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i % classes === 0) {
      const block = new Rng(hash32(`parlab-video:${seed}:${split}:block:${i / classes}`));
      order = block.shuffle([...Array(classes).keys()]);
    }
    const label = order[i % classes];
    const rng = new Rng(hash32(`parlab-video:${seed}:${split}:clip:${i}`));
    const mainItem = drawEmoji(rng, pool);
    const motion = drawClipMotion(rng, MOTION_CLASSES[label]);
    const clip: PlannedClip = { label, main: { ...motion.main, item: mainItem } };
    if (motion.distractor) {
      clip.distractor = { ...motion.distractor, item: drawEmoji(rng, pool, mainItem.baseUnified) };
    }
    clips.push(clip);
  }
  return clips;
}

/** A clip's record in clips.json: which pictures, and every motion parameter. */
function clipRecord(clip: PlannedClip) {
  const layer = (l: PlannedLayer) => ({
    emoji: `${l.item.set}:${l.item.unified}`,
    side: l.side,
    ...l.motion,
  });
  return clip.distractor
    ? { ...layer(clip.main), distractor: layer(clip.distractor) }
    : layer(clip.main);
}

/** Render planned clips into one batch (frames 5, 24x24). */
function renderAll(
  clips: PlannedClip[],
  sprites: Map<string, Sprite>,
): ImageBatch {
  const { frames, frameSize: size } = CLIP_GENERATOR;
  const per = frames * size * size * 3;
  const data = new Uint8Array(clips.length * per);
  clips.forEach((clip, i) => {
    const layers = [clip.distractor, clip.main].filter((l) => l !== undefined).map((l) => ({
      sprite: sprites.get(l.item.file)!,
      poses: posesOf(l),
    }));
    data.set(renderClip(layers), i * per);
  });
  return { n: clips.length, frames, height: size, width: size, data };
}

function countSplit(clips: PlannedClip[]) {
  const perClass: Record<string, number> = {};
  for (const name of MOTION_CLASSES) perClass[name] = 0;
  const bases = new Set<string>();
  const files = new Set<string>();
  let withDistractor = 0;
  for (const clip of clips) {
    perClass[MOTION_CLASSES[clip.label]]++;
    for (const l of [clip.main, clip.distractor]) {
      if (!l) continue;
      bases.add(l.item.baseUnified);
      files.add(l.item.file);
    }
    if (clip.distractor) withDistractor++;
  }
  return {
    total: clips.length,
    perClass,
    withDistractor,
    baseEmoji: bases.size,
    pictures: files.size,
  };
}

/** Round for the manifest so it reads well (values are deterministic either way). */
function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/** One split's clips as pictures, with what decided them. */
export interface RenderedClips {
  /** The clips: n clips of 5 frames of 24x24 RGB. */
  images: ImageBatch;
  /** Motion class of each clip (index into MOTION_CLASSES). */
  labels: Uint8Array;
  /** The plan of each clip (emoji, side, motion parameters). */
  plans: PlannedClip[];
}

/**
 * Plan and render both splits' clips, the pixels that {@link buildVideoFixtures} tokenizes: with
 * a manifest's `counts.<split>.total` and `generator.seed` they are the committed fixture's clips.
 * @example
 * const { val } = await renderVideoClips({ train: 6000, val: 800, seed: 0 });
 */
export async function renderVideoClips(
  options: Pick<
    VideoBuildOptions,
    "train" | "val" | "seed" | "valHashFraction" | "nodeModules" | "log"
  >,
): Promise<Record<VideoSplit, RenderedClips>> {
  const log = options.log ?? (() => {});
  const seed = options.seed ?? 0;
  const counts = { train: options.train ?? 6000, val: options.val ?? 800 };
  const { items } = await listEmojiPictures({ nodeModules: options.nodeModules });
  const pools = emojiPools(items, options.valHashFraction ?? DEFAULT_VAL_HASH_FRACTION);
  log(
    `emoji: train ${pools.train.bases.length}, val ${pools.val.bases.length} base emoji ` +
      `(${items.length} pictures)`,
  );
  const plans = {
    train: planClips("train", counts.train, seed, pools.train),
    val: planClips("val", counts.val, seed, pools.val),
  };
  // Load each picture used once, in first-use order (the order does not change any byte).
  const files = [
    ...new Set(
      [...plans.train, ...plans.val].flatMap((c) =>
        [c.main, c.distractor].filter((l) => l !== undefined).map((l) => l.item.file)
      ),
    ),
  ];
  const spriteTexels = CLIP_GENERATOR.spriteTexels;
  const bar = progress("sprites", files.length, { quiet: options.log === undefined });
  const sprites = await loadSprites(files, spriteTexels, 4, (done) => {
    if (done % 100 === 0 || done === files.length) bar.update(done);
  });
  bar.stop();
  log(`loaded ${files.length} sprite pictures at ${spriteTexels} px`);
  const split = (p: PlannedClip[]): RenderedClips => ({
    images: renderAll(p, sprites),
    labels: Uint8Array.from(p, (c) => c.label),
    plans: p,
  });
  return { train: split(plans.train), val: split(plans.val) };
}

/**
 * Build the clip fixtures into `options.outDir`; returns the manifest written there.
 * @example
 * const manifest = await buildVideoFixtures({ outDir: "fixtures/video", log: console.log });
 */
export async function buildVideoFixtures(options: VideoBuildOptions): Promise<VideoManifest> {
  const log = options.log ?? (() => {});
  const nTrain = options.train ?? 6000;
  const nVal = options.val ?? 800;
  const seed = options.seed ?? 0;
  const valHashFraction = options.valHashFraction ?? DEFAULT_VAL_HASH_FRACTION;
  const { frames, frameSize } = CLIP_GENERATOR;
  const tokenizerDir = asDirUrl(options.tokenizerDir ?? EMOJI16_FIXTURE_DIR);
  const tokenizer = await loadPatchTokenizer(tokenizerDir);
  const patch = tokenizer.downsample;
  if (frameSize % patch !== 0) {
    throw new Error(`the codebook's patch ${patch} does not divide the frame side ${frameSize}`);
  }
  const codebookBytes = await Deno.readFile(new URL("codebook.npy.gz", tokenizerDir));

  const rendered = await renderVideoClips({ ...options, train: nTrain, val: nVal, seed, log });
  const plans = { train: rendered.train.plans, val: rendered.val.plans };
  const trainClips = rendered.train.images;
  const valClips = rendered.val.images;
  log(`rendered ${nTrain} train and ${nVal} val clips of ${frames} x ${frameSize}x${frameSize}`);
  const trainTokens = tokenizer.encodeSync(trainClips);
  const valTokens = tokenizer.encodeSync(valClips);
  const valRecon = tokenizer.decodeSync(valTokens);
  const psnrVal = psnrOf(asFrames(valClips), asFrames(valRecon));
  const psnrTrain = psnrOf(asFrames(trainClips), asFrames(tokenizer.decodeSync(trainTokens)));
  log(
    `token reconstruction PSNR: val ${round4(psnrVal.psnr).toFixed(2)} dB (mean per frame ${
      round4(psnrVal.meanPerImage).toFixed(2)
    }), train ${round4(psnrTrain.psnr).toFixed(2)} dB`,
  );

  const grid = frameSize / patch;
  const tokensNpy = (t: Uint16Array, n: number) =>
    encodeNpy({ dtype: "uint16", shape: [n, frames, grid, grid], data: t }, true);
  const labelsNpy = (clips: PlannedClip[]) =>
    encodeNpy({
      dtype: "uint8",
      shape: [clips.length],
      data: Uint8Array.from(clips, (c) => c.label),
    }, true);
  const clipsJson = JSON.stringify({
    note: "clip i of a split: main emoji <set>:<code points>, its side (px) and motion " +
      "(kind = class; see manifest.generator for units), and an optional distractor sliding behind",
    train: plans.train.map(clipRecord),
    val: plans.val.map(clipRecord),
  }) + "\n";
  const payload: [string, Uint8Array][] = [
    ["train.tokens.npy.gz", tokensNpy(trainTokens.tokens, nTrain)],
    ["train.labels.npy.gz", labelsNpy(plans.train)],
    ["val.tokens.npy.gz", tokensNpy(valTokens.tokens, nVal)],
    ["val.labels.npy.gz", labelsNpy(plans.val)],
    [CLIPS_FILE, gzip(new TextEncoder().encode(clipsJson))],
  ];
  const fileInfo: Record<string, { sha256: string; bytes: number }> = {};
  for (const [name, bytes] of payload) {
    fileInfo[name] = { sha256: await sha256Hex(bytes), bytes: bytes.length };
  }

  const manifest: VideoManifest = {
    format: VIDEO_FORMAT,
    classNames: [...MOTION_CLASSES],
    K: tokenizer.vocabSize,
    frames,
    grid: { frames, height: grid, width: grid },
    imageSize: frameSize,
    patch,
    tokenizer: {
      kind: "patch-kmeans",
      codebook: "../emoji16/codebook.npy.gz",
      sha256: await sha256Hex(codebookBytes),
    },
    psnrVal: round4(psnrVal.psnr),
    psnrValMeanPerFrame: round4(psnrVal.meanPerImage),
    psnrTrain: round4(psnrTrain.psnr),
    counts: { train: countSplit(plans.train), val: countSplit(plans.val) },
    split: {
      method:
        "the emoji fixtures' split: val iff hash32(base emoji unified code points) / 2^32 < " +
        "valHashFraction; a clip's main emoji and distractor both come from its split's base " +
        "emoji, so no val emoji (any set or skin tone) appears in a train clip",
      valHashFraction,
    },
    generator: {
      seed,
      clipSeed: "clip i of split s draws from Rng(hash32('parlab-video:<seed>:<s>:clip:<i>'))",
      classOrder: "each block of 4 clips holds every class once, shuffled by " +
        "Rng(hash32('parlab-video:<seed>:<s>:block:<b>'))",
      emojiDraw: "uniform over the split's base emoji, then over that emoji's drawings " +
        "(set x skin tone); a distractor is another base emoji",
      units: "pixels of the 24 px frame (the frame spans [0, 24]), time in frames 0..4, angles " +
        "in degrees clockwise; poses: slide x0 + vx t; bounce x0 + vx t and a ballistic fall " +
        "from drop px above the floor (centre at 24 - side/2) with gravity " +
        "2 (drop - vy0 tHit) / tHit^2, rebounding with restitution; zoom side * from * " +
        "(to/from)^(t/4) about (x, y); spin angle0 + turn t/4 about (x, y)",
      rendering: "RGBA sprite pictures (sharp lanczos3 from the 64 px PNGs), premultiplied; " +
        "each pixel averages supersample^2 bilinear samples of the inversely rotated and " +
        "scaled sprite, transparent outside; distractor then main composited over white; " +
        "the whole square of every sprite stays inside the frame in every frame",
      ...CLIP_GENERATOR,
    },
    sources: EMOJI_SETS.map((set) => ({
      package: `emoji-datasource-${set}`,
      version: EMOJI_DATASOURCE_VERSION,
      images: `img/${set}/64/*.png (skin-tone variants included, category "Component" left out)`,
    })),
    clips: {
      file: CLIPS_FILE,
      note: "gzip JSON {train: [...], val: [...]}: every clip's emoji and motion parameters",
    },
    files: fileInfo,
  };
  const out = options.outDir.endsWith("/") ? options.outDir : `${options.outDir}/`;
  for (const [name, bytes] of payload) await writeFileAtomic(out + name, bytes);
  await writeFileAtomic(out + "manifest.json", JSON.stringify(manifest, null, 2) + "\n");
  log(`wrote ${VIDEO_FIXTURE_FILES.length} files to ${out}`);

  if (options.showcase) {
    const per = frames * frameSize * frameSize * 3;
    const rows = MOTION_CLASSES.map((className, c) => {
      const picks = plans.val.map((clip, i) => clip.label === c ? i : -1).filter((i) => i >= 0)
        .slice(0, 3);
      const take = (batch: ImageBatch): ImageBatch => {
        const data = new Uint8Array(picks.length * per);
        picks.forEach((i, j) => data.set(batch.data.subarray(i * per, (i + 1) * per), j * per));
        return { n: picks.length, frames, height: frameSize, width: frameSize, data };
      };
      return { className, originals: take(valClips), reconstructions: take(valRecon) };
    });
    await options.showcase(rows);
  }
  return manifest;
}
