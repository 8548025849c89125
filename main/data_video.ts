/**
 * `deno task data:video`: rebuild fixtures/video/ (moving-emoji clips, tokenized with the
 * fixtures/emoji16 codebook) and the showcase out/data_video/clips.png. `--check` rebuilds into a
 * temporary folder and compares every file byte for byte with the committed ones instead.
 *
 * Flags: --out DIR (fixtures/video), --pictures DIR (out/data_video), --train N (6000),
 * --val N (800), --seed N (0), --check, --quiet, --help.
 * @module
 */
import { compareRebuild } from "./_rebuild_check.ts";
import { z } from "../src/deps/zod.ts";
import { numberFlag, parseFlags, runMain } from "../src/util/cli.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";
import type { ImageBatch } from "../src/media/batches.ts";
import {
  buildVideoFixtures,
  type ClipShowcaseRow,
  VIDEO_FIXTURE_FILES,
} from "../src/data/build_clips.ts";
import { mosaicImage, rgbToPng } from "../src/viz/mosaic.ts";
import { labelledRowsFigure } from "../src/viz/compose.ts";
import { svgToPng } from "../src/viz/render.ts";

const USAGE = "Usage: deno task data:video [--out DIR] [--pictures DIR] [--train N] [--val N] " +
  "[--seed N] [--check] [--quiet]";

const count = (what: string) =>
  numberFlag().pipe(z.number().int().min(1, `at least 1 ${what}`).max(1_000_000, "at most 1e6"));

const Flags = z.object({
  out: z.string().min(1).default("fixtures/video"),
  pictures: z.string().min(1).default("out/data_video"),
  train: count("clip").default(6000),
  val: count("clip").default(800),
  seed: numberFlag().pipe(z.number().int().min(0).max(2 ** 31 - 1)).default(0),
  check: z.boolean().default(false),
  quiet: z.boolean().default(false),
});

/** Pictures of the same height side by side, `gap` white pixels apart. */
function besideEachOther(parts: ImageBatch[], gap: number): ImageBatch {
  const height = parts[0].height;
  const width = parts.reduce((w, p) => w + p.width, 0) + gap * (parts.length - 1);
  const data = new Uint8Array(height * width * 3).fill(255);
  let x0 = 0;
  for (const p of parts) {
    for (let y = 0; y < height; y++) {
      data.set(p.data.subarray(y * p.width * 3, (y + 1) * p.width * 3), (y * width + x0) * 3);
    }
    x0 += p.width + gap;
  }
  return { n: 1, height, width, data };
}

/** One row: the clips of a batch as frame strips beside each other. */
async function stripRow(clips: ImageBatch, label: string) {
  const per = clips.frames! * clips.height * clips.width * 3;
  const strips = Array.from(
    { length: clips.n },
    (_, i) =>
      mosaicImage({ ...clips, n: 1, data: clips.data.subarray(i * per, (i + 1) * per) }, {
        scale: 4,
      }),
  );
  const row = besideEachOther(strips, 16);
  return { label, png: await rgbToPng(row), width: row.width, height: row.height };
}

/** Write the showcase: per class, val clips (frames left to right) above their tokens. */
async function writeShowcase(rows: ClipShowcaseRow[], dir: string): Promise<string> {
  const figureRows = [];
  for (const r of rows) {
    figureRows.push(await stripRow(r.originals, `${r.className}: frames`));
    figureRows.push(await stripRow(r.reconstructions, `${r.className}: tokens`));
  }
  const fig = labelledRowsFigure(
    figureRows,
    "Val clips per motion class: rendered frames above their 8x8-token reconstructions",
    130,
  );
  const path = `${dir.endsWith("/") ? dir : `${dir}/`}clips.png`;
  await writeFileAtomic(path, await svgToPng(fig.svg, 1));
  return path;
}

/** Build (or, with --check, rebuild and compare); the exit code. */
async function main(args: string[]): Promise<number> {
  const f = parseFlags(args, Flags, ["check", "quiet"], USAGE);
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  const outDir = f.check ? await Deno.makeTempDir({ prefix: "parlab-video-check-" }) : f.out;
  const log = f.quiet ? undefined : (line: string) => console.log(`[${seconds()} s] ${line}`);
  try {
    const manifest = await buildVideoFixtures({
      outDir,
      train: f.train,
      val: f.val,
      seed: f.seed,
      showcase: f.check ? undefined : async (rows) => {
        const path = await writeShowcase(rows, f.pictures);
        log?.(`wrote ${path} (3 val clips per class: frames above token reconstructions)`);
      },
      log,
    });
    console.log(
      `val PSNR ${
        manifest.psnrVal.toFixed(2)
      } dB; train ${manifest.counts.train.total}, val ${manifest.counts.val.total} clips; ${seconds()} s`,
    );
    if (!f.check) return 0;
    return await compareRebuild(outDir, f.out, VIDEO_FIXTURE_FILES);
  } finally {
    if (f.check) await Deno.remove(outDir, { recursive: true });
  }
}

if (import.meta.main) {
  await runMain("data:video", async () => {
    const code = await main(Deno.args);
    if (code !== 0) Deno.exit(code);
  });
}
