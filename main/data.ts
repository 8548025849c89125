/**
 * `deno task data`: rebuild fixtures/emoji/ from the npm emoji packages (and
 * out/data/reconstructions.png). `--check` rebuilds into a temporary folder and compares every
 * file byte for byte with the committed ones instead of overwriting them.
 *
 * Flags: --out DIR (fixtures/emoji), --pictures DIR (out/data), --k N, --patch N,
 * --image-size N, --samples N, --iterations N, --seed N, --max-emoji N, --check, --quiet.
 * K, patch and picture size default to those in `--out`'s manifest when it has one (so
 * `deno task data:check --out fixtures/emoji16` checks that set as built), else 1024, 2 and 48.
 * @module
 */
import { compareRebuild } from "./_rebuild_check.ts";
import { z } from "../src/deps/zod.ts";
import { numberFlag, parseFlags, runMain } from "../src/util/cli.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";
import { buildEmojiFixtures, EMOJI_FIXTURE_FILES } from "../src/data/build_emoji.ts";
import { loadEmojiManifest } from "../src/data/emoji_fixture.ts";
import { imagesToMosaic, interleaveImages } from "../src/viz/mosaic.ts";

const USAGE = "Usage: deno task data [--out DIR] [--pictures DIR] [--k N] [--patch N] " +
  "[--image-size N] [--samples N] [--iterations N] [--seed N] [--max-emoji N] [--check] [--quiet]";

const int = (min: number) => numberFlag().pipe(z.number().int().min(min));

const Flags = z.object({
  out: z.string().min(1).default("fixtures/emoji"),
  pictures: z.string().min(1).default("out/data"),
  k: numberFlag().pipe(z.number().int().min(2).max(65536, "at most 65536 (uint16 tokens)"))
    .optional(),
  patch: int(1).optional(),
  imageSize: numberFlag().pipe(z.number().int().min(4).max(1024, "at most 1024 pixels"))
    .optional(),
  samples: int(1).default(200_000),
  iterations: int(0).default(20),
  seed: int(0).default(0),
  maxEmoji: int(1).optional(),
  check: z.boolean().default(false),
  quiet: z.boolean().default(false),
});

/** K, patch and picture size of an already built set in `dir`, or null when there is none. */
async function builtShape(
  dir: string,
): Promise<{ K: number; patch: number; imageSize: number } | null> {
  const path = `${dir.endsWith("/") ? dir : `${dir}/`}manifest.json`;
  const exists = await Deno.stat(path).then(() => true, (e) => {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  });
  if (!exists) return null;
  const m = await loadEmojiManifest(dir);
  return { K: m.K, patch: m.patch, imageSize: m.imageSize };
}

/** Build (or, with --check, rebuild and compare); the exit code. */
async function main(args: string[]): Promise<number> {
  const f = parseFlags(args, Flags, ["check", "quiet"], USAGE);
  const started = performance.now();
  const shape = await builtShape(f.out);
  const outDir = f.check ? await Deno.makeTempDir({ prefix: "parlab-emoji-check-" }) : f.out;
  const log = f.quiet ? undefined : (line: string) => {
    console.log(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${line}`);
  };
  try {
    const manifest = await buildEmojiFixtures({
      outDir,
      showcase: f.check ? undefined : async (originals, reconstructions) => {
        const png = await imagesToMosaic(interleaveImages(originals, reconstructions), {
          cols: 8,
          scale: 3,
        });
        const dir = f.pictures.endsWith("/") ? f.pictures : `${f.pictures}/`;
        await writeFileAtomic(`${dir}reconstructions.png`, png);
        log?.(`wrote ${dir}reconstructions.png (val: original | reconstruction, 4 per class)`);
      },
      k: f.k ?? shape?.K ?? 1024,
      patch: f.patch ?? shape?.patch ?? 2,
      imageSize: f.imageSize ?? shape?.imageSize ?? 48,
      samplePatches: f.samples,
      iterations: f.iterations,
      seed: f.seed,
      maxEmoji: f.maxEmoji,
      log,
    });
    console.log(
      `val PSNR ${
        manifest.psnrVal.toFixed(2)
      } dB; train ${manifest.counts.train.total}, val ${manifest.counts.val.total} pictures; ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );
    if (!f.check) return 0;
    return await compareRebuild(outDir, f.out, EMOJI_FIXTURE_FILES);
  } finally {
    if (f.check) await Deno.remove(outDir, { recursive: true });
  }
}

if (import.meta.main) {
  await runMain("data", async () => {
    const code = await main(Deno.args);
    if (code !== 0) Deno.exit(code);
  });
}
