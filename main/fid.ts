/**
 * `deno task fid`: FID, sFID, Inception Score and precision/recall as ADM's evaluator computes
 * them, with the FID Inception exported by `python -m python.inception` (src/metrics/README.md).
 *
 *   deno task fid --samples out/sample --model fixtures/models/tiny-par4.json \
 *       --ref VIRTUAL_imagenet256_labeled.npz --out results/fid.json
 *   deno task fid --stats-from pictures/ --save-stats ref.npz     # reference statistics
 *
 * `--samples` and `--stats-from` take a token set (a folder with `tokens.npy`: a `deno task
 * sample` run or a merged sharded one; decoded with `--model`'s or `--tokenizer`'s tokenizer), a
 * folder of pictures, or an `.npz` whose `arr_0` holds uint8 pictures [N, H, W, 3] (ADM's layout).
 * `--ref` is ADM's reference batch or statistics written by `--save-stats`.
 * @module
 */
import { z } from "../src/deps/zod.ts";
import { flagError, numberFlag, parseFlags, runMain } from "../src/util/cli.ts";
import { ManifestError, UsageError } from "../src/util/errors.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";
import { progress } from "../src/util/progress.ts";
import { writeNpz } from "../src/io/npz.ts";
import { ImageFeatureExtractor } from "../src/metrics/image_features.ts";
import {
  encodeReferenceStats,
  loadReferenceStats,
  type ReferenceStats,
} from "../src/metrics/reference.ts";
import { statsFromMoments } from "../src/metrics/moments.ts";
import { inceptionScore, type InceptionScoreResult } from "../src/metrics/inception_score.ts";
import { precisionRecall } from "../src/metrics/precision_recall.ts";
import type { FrechetResult } from "../src/metrics/frechet.ts";
import { collectFidFeatures, type FidFeatures, frechetToReference } from "../src/metrics/fid.ts";
import {
  folderPictures,
  npzArrayNames,
  npzPictures,
  PICTURE_EXTENSIONS,
  pictureFiles,
  type PictureSource,
  readNpzArrays,
  tokenPictures,
} from "../src/metrics/fid_sources.ts";
import { loadManifest } from "../src/model/onnx_node.ts";
import type { ARModel } from "../src/model/ar_model.ts";
import type { ModelManifest } from "../src/model/manifest.ts";
import { PatchKMeansTokenizer } from "../src/tokenizer/patch_kmeans.ts";
import { VqTokenizer } from "../src/tokenizer/vq.ts";
import type { Tokenizer } from "../src/tokenizer/types.ts";
import { programTokenizer } from "./_tokenizer.ts";

/** Where `python -m python.inception --out models/inception/` puts the manifest. */
const DEFAULT_FEATURES = "models/inception/inception-fid.json";
const EXPORT_COMMAND = "/usr/bin/python3 -m python.inception --weights " +
  "pt_inception-2015-12-05-6726825d.pth --out models/inception/";

const USAGE = "Usage: deno task fid [--features M.json] (--samples DIR|X.npz --ref REF.npz " +
  "[--out R.json] [--skip-pr] [--splits 10] | --stats-from DIR|X.npz [--save-stats S.npz]) " +
  "[--model M.json | --tokenizer C.npy.gz|T.tokenizer.json] [--batch 32] [--threads N]";

const Flags = z.object({
  features: z.string().min(1, "is empty").default(DEFAULT_FEATURES),
  samples: z.string().min(1, "is empty").optional(),
  statsFrom: z.string().min(1, "is empty").optional(),
  saveStats: z.string().min(1, "is empty").optional(),
  ref: z.string().min(1, "is empty").optional(),
  model: z.string().min(1, "is empty").optional(),
  tokenizer: z.string().min(1, "is empty").optional(),
  out: z.string().min(1, "is empty").optional(),
  batch: numberFlag().pipe(z.number().int().min(1).max(4096)).default(32),
  threads: numberFlag().pipe(z.number().int().positive()).optional(),
  splits: numberFlag().pipe(z.number().int().min(1)).default(10),
  skipPr: z.boolean().default(false),
});
type FlagValues = z.infer<typeof Flags>;

/** Files above this are read member by member (ADM's reference batch is ~2 GB of pictures). */
const LARGE_NPZ = 256 * 2 ** 20;

const isUrl = (s: string) => /^(https?|file):/.test(s);

async function statOf(path: string): Promise<Deno.FileInfo | null> {
  return await Deno.stat(path).catch(() => null);
}

/** Check the flag combination; every mistake one line naming the flag and the fix. */
function checkFlags(f: FlagValues): void {
  if (!f.samples && !f.statsFrom) {
    throw new UsageError(
      "--samples: give --samples DIR (score samples against --ref) or --stats-from PICTURES " +
        `(write reference statistics). ${USAGE}`,
    );
  }
  if (f.samples && f.statsFrom) {
    throw new UsageError(
      "--stats-from: goes without --samples (it writes statistics; --samples scores). " +
        "Fix: run the two commands one after the other",
    );
  }
  if (f.samples && !f.ref) {
    throw new UsageError(
      "--ref: is required with --samples. Fix: pass ADM's reference batch (e.g. " +
        "VIRTUAL_imagenet256_labeled.npz) or statistics from `deno task fid --stats-from`",
    );
  }
  if (f.statsFrom) {
    for (const [flag, given] of [["--ref", f.ref], ["--out", f.out], ["--skip-pr", f.skipPr]]) {
      if (given) {
        throw new UsageError(
          `${flag}: only scores --samples; --stats-from writes statistics. Fix: drop ${flag}`,
        );
      }
    }
  }
}

/** The default `--save-stats` of `--stats-from X`: `X.stats.npz` beside it. */
function defaultStatsPath(input: string): string {
  return `${input.replace(/\/+$/, "").replace(/\.npz$/, "")}.stats.npz`;
}

/**
 * A model known only by its manifest: enough for the tokenizer its manifest names (the graph,
 * possibly gigabytes, is never loaded; decoding does not need it).
 */
function manifestOnly(manifest: ModelManifest, source: URL): ARModel {
  const unused = (): never => {
    throw new Error("deno task fid loads a model's manifest only, for its tokenizer");
  };
  return {
    manifest,
    source,
    backend: "none (manifest only)",
    backendName: "cpu",
    loadLimits: {},
    newCache: unused,
    step: unused,
    truncate: unused,
    dispose: async () => {},
  };
}

async function loadTokenizer(f: FlagValues, dir: string): Promise<Tokenizer> {
  if (f.model) {
    const { manifest, url } = await flagError("--model", () => loadManifest(f.model!));
    return await flagError(
      f.tokenizer ? "--tokenizer" : "--model",
      () => programTokenizer(manifestOnly(manifest, url), f.tokenizer),
    );
  }
  if (f.tokenizer) {
    if (f.tokenizer.endsWith(".json")) {
      // A tokenizer manifest (LlamaGen's VQ, parlab-tokenizer/1).
      return await flagError("--tokenizer", () => VqTokenizer.load(f.tokenizer!));
    }
    return await flagError("--tokenizer", () => PatchKMeansTokenizer.load(f.tokenizer!));
  }
  let model = "";
  try {
    model = JSON.parse(await Deno.readTextFile(`${dir}/run.json`)).run?.model ?? "";
  } catch { /* no run.json: a token set from elsewhere */ }
  throw new UsageError(
    `--model: ${dir} holds tokens; pass the model that sampled them (--model <manifest>${
      model ? `, the run's model is "${model}"` : ""
    }) or its codebook (--tokenizer <codebook.npy.gz>) to decode them`,
  );
}

/** Open `path` (flag `flag`) as a picture source. */
async function openSource(
  path: string,
  flag: string,
  f: FlagValues,
  extractor: ImageFeatureExtractor,
  notes: string[],
): Promise<PictureSource> {
  const info = await statOf(path);
  if (!info) {
    throw new UsageError(`${flag}: ${path} does not exist. Fix: check the path`);
  }
  const decoding = f.model ?? f.tokenizer;
  const noDecode = (kind: string) => {
    if (decoding) {
      throw new UsageError(
        `${f.model ? "--model" : "--tokenizer"}: ${path} is ${kind}, not a token set; ` +
          `nothing to decode. Fix: drop ${f.model ? "--model" : "--tokenizer"}`,
      );
    }
  };
  if (info.isFile) {
    if (!path.endsWith(".npz")) {
      throw new UsageError(
        `${flag}: ${path} is a file but not an .npz. Fix: pass an .npz with arr_0 pictures, a ` +
          "folder of pictures, or a sample run's folder (tokens.npy)",
      );
    }
    noDecode("an .npz of pictures");
    return await flagError(flag, () => npzPictures(path));
  }
  const dir = path.replace(/\/+$/, "");
  if (await statOf(`${dir}/tokens.npy`)) {
    const tokenizer = await loadTokenizer(f, dir);
    return await flagError(flag, () => tokenPictures(`${dir}/tokens.npy`, tokenizer));
  }
  const files = await pictureFiles(dir);
  if (files.length === 0) {
    const shards = [...Deno.readDirSync(dir)].some((e) => /^shard-\d+-of-\d+$/.test(e.name));
    throw new UsageError(
      shards
        ? `${flag}: ${dir} holds unmerged shards. Fix: deno task merge --out ${dir}, then rerun`
        : `${flag}: ${dir} holds neither tokens.npy nor pictures (${
          PICTURE_EXTENSIONS.join(", ")
        }). Fix: pass a sample run's folder, a picture folder or an .npz`,
    );
  }
  noDecode("a picture folder");
  const { height, width, resize } = extractor.manifest.input;
  let resized = 0;
  const source = await folderPictures(dir, height, width, resize, () => resized++);
  const close = source.close;
  source.close = () => {
    close();
    if (resized) {
      notes.push(
        `${resized} of ${source.n} pictures in ${dir} were not ${height}x${width}; sharp resized ` +
          `them (${resize}) before the feature model`,
      );
    }
  };
  return source;
}

/** Run a source through the feature model with a progress bar. */
async function features(
  label: string,
  source: PictureSource,
  extractor: ImageFeatureExtractor,
  f: FlagValues,
  keepPool: boolean,
  keepLogits: boolean,
  notes: string[],
): Promise<FidFeatures> {
  const { height, width, resize } = extractor.manifest.input;
  if (source.height !== null && (source.height !== height || source.width !== width)) {
    notes.push(
      `${label}: pictures are ${source.height}x${source.width}; sharp resizes them to the ` +
        `feature model's ${height}x${width} (${resize}) first`,
    );
  }
  if (source.n < 2) {
    const flag = { pictures: "--stats-from", samples: "--samples", reference: "--ref" }[label];
    throw new UsageError(
      `${flag ?? label}: holds ${source.n} picture(s); statistics need at least 2. Fix: pass more`,
    );
  }
  const bar = progress(`features ${label}`, source.n);
  try {
    return await collectFidFeatures(extractor, source, {
      batchSize: f.batch,
      keepPool,
      keepLogits,
      onProgress: (done) => bar.update(done),
    });
  } finally {
    bar.stop();
    source.close();
  }
}

/** Statistics in ADM's layout from gathered features. */
function statsOf(feats: FidFeatures): ReferenceStats {
  return {
    pool: statsFromMoments(feats.pool),
    ...(feats.spatial ? { spatial: statsFromMoments(feats.spatial) } : {}),
    n: feats.n,
  };
}

/** What --ref holds, read without its pictures. */
interface Reference {
  stats: ReferenceStats | null;
  /** `arr_0` pictures are in the file (local files only). */
  pictures: boolean;
}

async function loadReference(ref: string): Promise<Reference> {
  if (isUrl(ref) && !ref.startsWith("file:")) {
    return { stats: await flagError("--ref", () => loadReferenceStats(ref)), pictures: false };
  }
  const path = ref.startsWith("file:") ? new URL(ref).pathname : ref;
  const info = await statOf(path);
  if (!info?.isFile) {
    throw new UsageError(
      `--ref: ${ref} ${info ? "is a folder" : "does not exist"}. Fix: pass ADM's reference ` +
        "batch (.npz) or statistics from `deno task fid --stats-from`",
    );
  }
  const names = await flagError("--ref", () => npzArrayNames(path));
  const pictures = names.includes("arr_0");
  if (!(names.includes("mu") && names.includes("sigma"))) {
    if (pictures) return { stats: null, pictures }; // computed from arr_0, as ADM's evaluator does
    await flagError("--ref", () => loadReferenceStats(path)); // throws: names the fix
  }
  if (info.size <= LARGE_NPZ) {
    return { stats: await flagError("--ref", () => loadReferenceStats(path)), pictures };
  }
  // A large file (pictures beside the statistics): read only the statistics' members.
  const arrays = await flagError(
    "--ref",
    () => readNpzArrays(path, ["mu", "sigma", "mu_s", "sigma_s", "n"]),
  );
  const tmp = await Deno.makeTempFile({ prefix: "parlab-ref-", suffix: ".npz" });
  try {
    await Deno.writeFile(tmp, writeNpz(arrays));
    return { stats: await flagError("--ref", () => loadReferenceStats(tmp)), pictures };
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

function frechetLine(name: string, r: FrechetResult | null, why: string): string {
  return r ? `  ${name}: ${r.distance.toFixed(4)}` : `  ${name}: skipped (${why})`;
}

async function writeStats(path: string, stats: ReferenceStats, flag: string): Promise<void> {
  try {
    await writeFileAtomic(path, encodeReferenceStats(stats));
  } catch (err) {
    throw new UsageError(
      `${flag}: cannot write ${path} (${(err as Error).message}). Fix: pass a writable path`,
    );
  }
}

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, Flags, ["skipPr"], USAGE);
  checkFlags(f);
  if (!isUrl(f.features) && !(await statOf(f.features))) {
    throw new UsageError(
      `--features: ${f.features} does not exist. Fix: export the FID Inception with ` +
        `\`${EXPORT_COMMAND}\`, or pass --features <feature manifest>`,
    );
  }
  const extractor = await flagError(
    "--features",
    () => ImageFeatureExtractor.load(f.features, { threads: f.threads }),
  );
  const notes: string[] = [];
  const t0 = performance.now();
  try {
    if (f.statsFrom) {
      const out = f.saveStats ?? defaultStatsPath(f.statsFrom);
      if (!isUrl(out) && out === f.statsFrom) {
        throw new UsageError(`--save-stats: would overwrite its input ${out}. Fix: another path`);
      }
      const source = await openSource(f.statsFrom, "--stats-from", f, extractor, notes);
      const feats = await features("pictures", source, extractor, f, false, false, notes);
      const stats = statsOf(feats);
      await writeStats(out, stats, "--save-stats");
      for (const n of notes) console.log(`note: ${n}`);
      console.log(
        `wrote ${out}: mu/sigma (${stats.pool.d}-d)${
          stats.spatial ? ` and mu_s/sigma_s (${stats.spatial.d}-d)` : ""
        } of ${feats.n} pictures (${feats.seconds.toFixed(1)} s, ${
          (feats.seconds / feats.n * 1000).toFixed(0)
        } s per 1,000)`,
      );
      return;
    }
    await score(f, extractor, notes, t0);
  } finally {
    await extractor.release();
  }
}

async function score(
  f: FlagValues,
  extractor: ImageFeatureExtractor,
  notes: string[],
  t0: number,
): Promise<void> {
  const ref = await loadReference(f.ref!);
  if (ref.stats && ref.stats.pool.d !== extractor.featureDim) {
    throw new UsageError(
      `--ref: its statistics are ${ref.stats.pool.d}-d, the feature model gives ` +
        `${extractor.featureDim}-d features. Fix: score with the feature model the reference ` +
        "was computed with (ADM's: the FID Inception, 2048-d)",
    );
  }
  const wantPr = ref.pictures && !f.skipPr;
  if (!ref.pictures) {
    notes.push("precision/recall skipped: the reference holds no pictures (arr_0)");
  } else if (f.skipPr) notes.push("precision/recall skipped (--skip-pr)");
  const source = await openSource(f.samples!, "--samples", f, extractor, notes);
  const samples = await features("samples", source, extractor, f, wantPr, true, notes);
  let refFeats: FidFeatures | null = null;
  if (wantPr || !ref.stats) {
    const refPath = f.ref!.startsWith("file:") ? new URL(f.ref!).pathname : f.ref!;
    const pics = await flagError("--ref", () => npzPictures(refPath));
    refFeats = await features("reference", pics, extractor, f, wantPr, false, notes);
    if (!ref.stats) {
      notes.push(
        "the reference has no mu/sigma: computed from its arr_0 pictures (save them once with " +
          "`deno task fid --stats-from <ref.npz>` to skip that pass)",
      );
    }
  }
  const refStats = ref.stats ?? statsOf(refFeats!);
  if (refStats.pool.d !== samples.pool.d) {
    throw new UsageError(
      `--ref: ${refStats.pool.d}-d statistics against ${samples.pool.d}-d features. Fix: use ` +
        "the feature model the reference was computed with",
    );
  }
  const bigD = samples.pool.d >= 512 && samples.n > samples.pool.d;
  if (bigD) console.error(`computing FID (${samples.pool.d}-d; minutes on a CPU) ...`);
  const fid = frechetToReference(refStats.pool, samples.pool, samples.poolRows);
  let sfid: FrechetResult | null = null;
  let sfidWhy = "";
  if (!samples.spatial) sfidWhy = "the feature model has no spatial output";
  else if (!refStats.spatial) sfidWhy = "the reference has no mu_s/sigma_s";
  else if (refStats.spatial.d !== samples.spatial.d) {
    sfidWhy =
      `spatial features are ${samples.spatial.d}-d, the reference's ${refStats.spatial.d}-d`;
  } else sfid = frechetToReference(refStats.spatial, samples.spatial, samples.spatialRows);
  if (sfidWhy) notes.push(`sFID skipped: ${sfidWhy}`);
  let is: InceptionScoreResult | null = null;
  if (samples.logits) {
    const splits = Math.min(f.splits, samples.n);
    if (splits < f.splits) notes.push(`IS over ${splits} splits (${samples.n} pictures)`);
    is = inceptionScore(samples.logits.data, samples.logits.d, { splits });
  } else notes.push("IS skipped: the feature model has no logits output");
  let pr: { precision: number; recall: number } | null = null;
  if (wantPr) {
    if (samples.n < 4 || refFeats!.n < 4) {
      notes.push("precision/recall skipped: k = 3 needs at least 4 pictures on each side");
    } else {
      if (samples.n * refFeats!.n > 1e8) {
        console.error("computing precision/recall (exact k-NN; long for large sets) ...");
      }
      pr = precisionRecall(refFeats!.poolRows!, samples.poolRows!, { k: 3 });
    }
  }
  if (f.saveStats) await writeStats(f.saveStats, statsOf(samples), "--save-stats");
  const seconds = (performance.now() - t0) / 1000;
  const lines = [
    `${samples.n} samples (${f.samples}) against ${f.ref} (${
      refStats.n ?? refFeats?.n ?? "?"
    } pictures), features ${extractor.manifest.name}:`,
    frechetLine("FID", fid, ""),
    frechetLine("sFID", sfid, sfidWhy),
    is
      ? `  IS: ${is.mean.toFixed(4)} ± ${is.std.toFixed(4)} (${is.splits.length} splits)`
      : "  IS: skipped",
    pr
      ? `  precision: ${pr.precision.toFixed(4)}, recall: ${pr.recall.toFixed(4)} (k = 3)`
      : "  precision/recall: skipped",
    `  (${seconds.toFixed(1)} s; features ${
      (samples.seconds / samples.n * 1000).toFixed(0)
    } s per 1,000 pictures)`,
  ];
  console.log(lines.join("\n"));
  for (const n of notes) console.log(`note: ${n}`);
  if (f.out) {
    const result = {
      format: "parlab-fid/1",
      samples: { path: f.samples, n: samples.n, kind: source.kind },
      reference: {
        path: f.ref,
        n: refStats.n ?? refFeats?.n ?? null,
        statistics: ref.stats ? "file" : "computed from arr_0",
        pictures: ref.pictures,
      },
      features: {
        manifest: f.features,
        name: extractor.manifest.name,
        sha256: extractor.manifest.sha256 ?? null,
        preprocess: extractor.manifest.provenance?.preprocess ?? null,
        featureDim: extractor.featureDim,
      },
      fid: fid.distance,
      fidParts: fid,
      sfid: sfid?.distance ?? null,
      sfidParts: sfid,
      inceptionScore: is,
      precision: pr?.precision ?? null,
      recall: pr?.recall ?? null,
      notes,
      seconds: {
        total: Math.round(seconds * 10) / 10,
        samples: Math.round(samples.seconds * 10) / 10,
        reference: refFeats ? Math.round(refFeats.seconds * 10) / 10 : null,
      },
    };
    try {
      await writeFileAtomic(f.out, JSON.stringify(result, null, 2) + "\n");
    } catch (err) {
      throw new UsageError(`--out: cannot write ${f.out} (${(err as Error).message})`);
    }
    console.log(`wrote ${f.out}`);
  }
}

if (import.meta.main) {
  await runMain("fid", async () => {
    try {
      await main();
    } catch (err) {
      // A reading problem in the middle of a run (a damaged picture, a truncated .npz) is the
      // user's to fix: one line, like every other.
      if (err instanceof ManifestError) throw new UsageError(err.message);
      throw err;
    }
  });
}
