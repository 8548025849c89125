/**
 * `deno task metrics`: quality metrics on the command line.
 *
 *   deno task metrics                         # the floor: real val grids against real train grids
 *   deno task metrics --count 72              # the floor at a sample size of 72 (seeded subset)
 *   deno task metrics --samples out/sample    # tokens.npy + labels.npy (from `deno task sample`)
 *   deno task metrics --tokens T.npy --labels L.npy --real val --coarse 64 --out results/m.json
 *
 * Decodes the grids with the emoji codebook, runs the committed emoji classifier, and prints (and
 * with --out writes) Fréchet distance, KID, class accuracy and the neighbour-pair JS divergence.
 * @module
 */
import { z } from "../src/deps/zod.ts";
import { numberFlag, parseFlags, runMain } from "../src/util/cli.ts";
import { UsageError } from "../src/util/errors.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";
import { Rng } from "../src/util/rng.ts";
import {
  loadEmojiDataset,
  loadEmojiManifest,
  loadPatchTokenizer,
} from "../src/data/emoji_fixture.ts";
import { loadLabelFile, loadTokenFile } from "../src/data/token_files.ts";
import type { TokenGridsLike } from "../src/media/batches.ts";
import { loadEmojiClassifier } from "../src/metrics/emoji_classifier.ts";
import { evaluateSamples, prepareReference, type SampleMetrics } from "../src/metrics/evaluate.ts";
import { coarseCodeMap } from "../src/metrics/token_pairs.ts";

const USAGE = "Usage: deno task metrics [--samples DIR | --tokens T.npy --labels L.npy] " +
  "[--real val|train] [--count N (floor only)] [--coarse G] [--kid-subsets N] [--kid-size M] [--seed S] [--threads N] " +
  "[--out FILE.json]";

const Flags = z.object({
  samples: z.string().min(1).optional(),
  tokens: z.string().min(1).optional(),
  labels: z.string().min(1).optional(),
  real: z.enum(["val", "train"]).optional(),
  count: numberFlag().pipe(z.number().int().min(2)).optional(),
  coarse: numberFlag().pipe(z.number().int().min(2).max(1024)).optional(),
  kidSubsets: numberFlag().pipe(z.number().int().min(1)).default(100),
  kidSize: numberFlag().pipe(z.number().int().min(2)).default(1000),
  seed: numberFlag().pipe(z.number().int()).default(0),
  threads: numberFlag().pipe(z.number().int().positive()).optional(),
  out: z.string().min(1).optional(),
});

function summary(label: string, m: SampleMetrics): string {
  return [
    `${label} (${m.n} grids):`,
    `  Fréchet distance (emoji CNN features): ${m.frechet.toFixed(4)}`,
    `  KID: ${m.kid.mean.toFixed(5)} ± ${
      m.kid.std.toFixed(5)
    } (${m.kid.subsets} subsets of ${m.kid.subsetSize})`,
    `  class accuracy: ${m.classAccuracy.toFixed(4)} (balanced ${
      m.classBalancedAccuracy.toFixed(4)
    })`,
    `  pair JS (bits): horizontal ${m.pairJS.horizontal.toFixed(4)}, vertical ${
      m.pairJS.vertical.toFixed(4)
    }`,
  ].join("\n");
}

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, Flags, [], USAGE);
  if (f.samples && (f.tokens || f.labels)) {
    throw new UsageError(`--samples: give either --samples DIR or --tokens/--labels. ${USAGE}`);
  }
  if ((f.samples || f.tokens) && f.count !== undefined) {
    throw new UsageError(`--count: only for the floor (without --samples/--tokens). ${USAGE}`);
  }
  if (!f.samples && (f.tokens === undefined) !== (f.labels === undefined)) {
    throw new UsageError(`--tokens and --labels go together. ${USAGE}`);
  }
  const manifest = await loadEmojiManifest();
  const tokenizer = await loadPatchTokenizer();
  const classifier = await loadEmojiClassifier({ threads: f.threads });
  const codeMap = f.coarse
    ? coarseCodeMap(tokenizer.codebook, tokenizer.downsample ** 2 * 3, f.coarse, f.seed)
    : undefined;

  let generated: TokenGridsLike;
  let labels: Uint8Array | Uint16Array;
  let label: string;
  const tokensPath = f.samples ? `${f.samples}/tokens.npy` : f.tokens;
  const labelsPath = f.samples ? `${f.samples}/labels.npy` : f.labels;
  let realSplit = f.real ?? "val";
  if (tokensPath && labelsPath) {
    // A missing or malformed input file is the user's to fix: one line, no stack.
    const flag = f.samples ? "--samples" : "--tokens/--labels";
    let grid: Awaited<ReturnType<typeof loadTokenFile>>;
    try {
      grid = await loadTokenFile(tokensPath, {
        vocabSize: manifest.K,
        height: manifest.grid.height,
        width: manifest.grid.width,
      });
      labels = await loadLabelFile(labelsPath, {
        n: grid.n,
        numClasses: manifest.classNames.length,
      });
    } catch (err) {
      throw new UsageError(`${flag}: ${(err as Error).message}`);
    }
    generated = grid;
    label = `${tokensPath} against real ${realSplit}`;
  } else {
    // The floor: held-out real grids scored against the training grids, i.e. what a generator
    // that produced new real emoji (770 of them) would get.
    if (f.real === "val") throw new UsageError("--real val: the floor compares val with train");
    realSplit = "train";
    const val = await loadEmojiDataset("val");
    const count = Math.min(f.count ?? val.n, val.n);
    const rows = new Rng(f.seed).shuffle(Array.from({ length: val.n }, (_, i) => i))
      .slice(0, count);
    if (count === val.n) rows.sort((a, b) => a - b);
    const cells = val.height * val.width;
    const tokens = new Uint16Array(count * cells);
    rows.forEach((r, i) => tokens.set(val.tokens.subarray(r * cells, (r + 1) * cells), i * cells));
    generated = { n: count, height: val.height, width: val.width, tokens };
    labels = Uint8Array.from(rows, (r) => val.labels[r]);
    label = `floor: ${count} real val grids against real train`;
  }
  const real = await loadEmojiDataset(realSplit);
  const t0 = performance.now();
  const reference = await prepareReference(real, tokenizer, classifier, { codeMap });
  const metrics = await evaluateSamples({
    generated,
    labels,
    real: reference,
    tokenizer,
    classifier,
    kid: { subsets: f.kidSubsets, subsetSize: f.kidSize, seed: f.seed },
  });
  const seconds = (performance.now() - t0) / 1000;
  console.log(summary(label, metrics));
  console.log(
    `  (${seconds.toFixed(1)} s${f.coarse ? `, pairs over ${f.coarse} code groups` : ""})`,
  );
  if (f.out) {
    const result = {
      what: label,
      real: realSplit,
      coarseGroups: f.coarse ?? null,
      classifier: classifier.manifest.name,
      seconds: Math.round(seconds * 10) / 10,
      ...metrics,
    };
    await writeFileAtomic(f.out, JSON.stringify(result, null, 2) + "\n");
    console.log(`wrote ${f.out}`);
  }
  await classifier.release();
}

if (import.meta.main) await runMain("metrics", main);
