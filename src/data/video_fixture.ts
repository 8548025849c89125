/**
 * Reading the moving-emoji clip fixtures (fixtures/video/, format `parlab-video-tokens/1`): the
 * manifest schema and {@link loadVideoDataset}, which checks the token and label files against
 * the manifest and names the field at fault when they disagree.
 * @module
 */
import { z } from "../deps/zod.ts";
import { loadNpyFile } from "../io/npy.ts";
import { readText } from "../io/read.ts";
import { ManifestError } from "../util/errors.ts";
import { asDirUrl } from "./emoji_fixture.ts";
import { checkTokenArray, loadLabelFile } from "./token_files.ts";

/** Folder of the committed clip fixtures, addressed relative to this module. */
export const VIDEO_FIXTURE_DIR = new URL("../../fixtures/video/", import.meta.url);

/** `format` of a clip fixture manifest. */
export const VIDEO_FORMAT = "parlab-video-tokens/1";

/** The two splits. */
export type VideoSplit = "train" | "val";

const count = z.number().int().nonnegative();

const SplitCounts = z.object({
  total: count,
  perClass: z.record(z.string(), count),
  withDistractor: count,
  baseEmoji: count,
  pictures: count,
});

/** Schema of fixtures/video/manifest.json. */
export const VideoManifestSchema = z.object({
  format: z.literal(VIDEO_FORMAT),
  classNames: z.array(z.string()).min(1).max(256),
  K: z.number().int().min(1).max(65536),
  frames: z.number().int().min(1),
  grid: z.object({
    frames: z.number().int().min(1),
    height: z.number().int().min(1),
    width: z.number().int().min(1),
  }),
  imageSize: z.number().int().min(1),
  patch: z.number().int().min(1),
  tokenizer: z.object({
    kind: z.literal("patch-kmeans"),
    codebook: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits"),
  }),
  psnrVal: z.number(),
  psnrValMeanPerFrame: z.number(),
  psnrTrain: z.number(),
  counts: z.object({ train: SplitCounts, val: SplitCounts }),
  split: z.object({ method: z.string(), valHashFraction: z.number() }),
  generator: z.object({ seed: z.number().int() }).passthrough(),
  sources: z.array(z.object({ package: z.string(), version: z.string(), images: z.string() })),
  clips: z.object({ file: z.string().min(1), note: z.string() }),
  files: z.record(z.string(), z.object({ sha256: z.string(), bytes: z.number().int() })),
}).superRefine((m, ctx) => {
  // Cross-field rules, each reported on the field a reader would fix.
  if (m.grid.frames !== m.frames) {
    ctx.addIssue({
      code: "custom",
      path: ["grid", "frames"],
      message: `is ${m.grid.frames} but frames is ${m.frames}`,
    });
  }
  for (const side of ["height", "width"] as const) {
    if (m.grid[side] * m.patch !== m.imageSize) {
      ctx.addIssue({
        code: "custom",
        path: ["grid", side],
        message: `is ${m.grid[side]}, but imageSize ${m.imageSize} / patch ${m.patch} gives ${
          m.imageSize / m.patch
        }`,
      });
    }
  }
});

/** Contents of fixtures/video/manifest.json. */
export type VideoManifest = z.infer<typeof VideoManifestSchema>;

const REBUILD = "Fix: rebuild the folder with `deno task data:video`";

/** Read and validate a clip fixture folder's manifest.json (a {@link ManifestError} if bad). */
export async function loadVideoManifest(
  dir: string | URL = VIDEO_FIXTURE_DIR,
): Promise<VideoManifest> {
  const path = new URL("manifest.json", asDirUrl(dir));
  const where = decodeURIComponent(path.pathname);
  let text: string;
  try {
    text = await readText(path);
  } catch (err) {
    throw new ManifestError(`${where}: ${(err as Error).message.split("\n")[0]}. ${REBUILD}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(`${where}: not valid JSON (${(err as Error).message}). ${REBUILD}`);
  }
  const parsed = VideoManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.map(String).join(".") || "(root)";
    throw new ManifestError(`${where}: field '${field}' ${issue.message}. ${REBUILD}`);
  }
  return parsed.data;
}

/** One split of the clip token data. */
export interface VideoDataset {
  /** n * frames * height * width token ids; clip i, frame f, cell (r, c) at ((i*F + f)*H + r)*W + c. */
  tokens: Uint16Array;
  /** Number of clips. */
  n: number;
  /** Frames per clip (5). */
  frames: number;
  /** Grid rows per frame (8). */
  height: number;
  /** Grid columns per frame (8). */
  width: number;
  /** Motion class of each clip, into `classNames`. */
  labels: Uint8Array | Uint16Array;
  /** The motion types: slide, bounce, zoom, spin. */
  classNames: string[];
  /** Codebook size K: every token is below it. */
  vocabSize: number;
}

/**
 * Load one split of the clip fixtures, checked against the manifest: the token file's grid must
 * be the manifest's `grid`, its clip count `counts.<split>.total`, every id below `K` and every
 * label a class. A mismatch is a {@link ManifestError} naming the field.
 * @example
 * const val = await loadVideoDataset("val");
 * console.log(val.n, val.frames, val.height, val.width, val.classNames[val.labels[0]]);
 */
export async function loadVideoDataset(
  split: VideoSplit,
  dir: string | URL = VIDEO_FIXTURE_DIR,
): Promise<VideoDataset> {
  if (split !== "train" && split !== "val") {
    throw new ManifestError(
      `split must be "train" or "val", got ${JSON.stringify(split)}. Fix: pass "train" or "val"`,
    );
  }
  const base = asDirUrl(dir);
  const m = await loadVideoManifest(base);
  const where = `${decodeURIComponent(base.pathname)}manifest.json`;
  const tokenUrl = new URL(`${split}.tokens.npy.gz`, base);
  const tokenName = decodeURIComponent(tokenUrl.pathname);
  const file = checkTokenArray(await loadNpyFile(tokenUrl), { vocabSize: m.K }, tokenName);
  for (const field of ["frames", "height", "width"] as const) {
    if (file[field] !== m.grid[field]) {
      throw new ManifestError(
        `${where}: field 'grid.${field}' is ${m.grid[field]}, but ${tokenName} holds grids of ` +
          `${file.frames} x ${file.height} x ${file.width}. ${REBUILD}`,
      );
    }
  }
  if (file.n !== m.counts[split].total) {
    throw new ManifestError(
      `${where}: field 'counts.${split}.total' is ${
        m.counts[split].total
      }, but ${tokenName} holds ${file.n} clips. ${REBUILD}`,
    );
  }
  const labels = await loadLabelFile(new URL(`${split}.labels.npy.gz`, base), {
    n: file.n,
    numClasses: m.classNames.length,
  });
  return { ...file, labels, classNames: m.classNames, vocabSize: m.K };
}
