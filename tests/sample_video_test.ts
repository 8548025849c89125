/**
 * `deno task sample` on a video model: tokens [N, F, H, W], the labelled frame strips, one
 * animated WebP (and GIF) per clip that decodes as F pages of the frame size; and the refusals of
 * a schedule whose frame count is not the model's, and of the clip-only flags.
 *
 * The video runs use the tiny parity model `fixtures/models/tiny-video-par4` (made by the video
 * models' work; they turn on once its file is there). Its tokens are synthetic, so the main run
 * decodes with a codebook of the test's own (`--codebook`: every code a flat 3x3-pixel patch of a
 * distinct colour), which fixes the frame size the checks expect.
 */
import { assert, assertEquals } from "./assert.ts";
import { denoRun } from "./deno_run.ts";
import { loadNpyFile } from "../src/io/mod.ts";
import { makeGrid } from "../src/media/grid.ts";
import { raster, scheduleToJSON } from "../src/schedule/mod.ts";
import { PatchKMeansTokenizer } from "../src/tokenizer/mod.ts";
import { loadSharp } from "../src/deps/sharp.ts";
import { labelColumn } from "../src/viz/clips.ts";

const sharp = await loadSharp();
const root = new URL("../", import.meta.url);
const path = (p: string) => new URL(p, root).pathname;
const cli = path("main/sample.ts");
const imageModel = path("fixtures/models/tiny-par4.json");
const videoModel = path("fixtures/models/tiny-video-par4.json");
const haveVideoModel = await Deno.stat(videoModel).then(() => true, () => false);
const PATCH = 3;

/** A codebook for the video model's vocabulary: code k is a flat patch of colour k. */
async function flatCodebook(dir: string): Promise<string> {
  const { vocabSize } = JSON.parse(await Deno.readTextFile(videoModel));
  const per = PATCH * PATCH * 3;
  const codebook = new Float32Array(vocabSize * per);
  for (let k = 0; k < vocabSize; k++) {
    const rgb = [(k * 37) % 256, (k * 91 + 60) % 256, (k * 151 + 120) % 256];
    for (let i = 0; i < per; i++) codebook[k * per + i] = rgb[i % 3];
  }
  const file = `${dir}/codebook.npy.gz`;
  await new PatchKMeansTokenizer(codebook, PATCH).save(file);
  return file;
}

/** Check the files of a video run of `clips` clips of the video model, decoded 3 px a token. */
async function checkVideoRun(out: string, clips: number, gif: boolean): Promise<void> {
  const manifest = JSON.parse(await Deno.readTextFile(videoModel));
  const { frames, height, width } = manifest.grid;
  assert(frames > 1 && height === width, `a square clip grid: ${JSON.stringify(manifest.grid)}`);
  const side = height * PATCH;
  const tokens = await loadNpyFile(`${out}/tokens.npy`);
  assertEquals(tokens.shape, [clips, frames, height, width]);
  const strips = await sharp(`${out}/strips.png`).metadata();
  assertEquals(strips.format, "png");
  // Labelled rows: the labels' column, then the frames at 2x with 2 px gaps, plus 8 px of margin.
  const names: string[] = manifest.classNames;
  const labels = (await loadNpyFile(`${out}/labels.npy`)).data;
  const column = labelColumn(
    [...labels].map((c, i) => `${String(i).padStart(6, "0")} ${names[Number(c)]}`),
  );
  assertEquals(strips.width, column + 2 + frames * (2 * side + 2) + 8);
  assertEquals(strips.height, 26 + clips * (2 + 2 * side + 2 + 4) + 4);
  const files = [...Deno.readDirSync(`${out}/images`)].map((e) => e.name).sort();
  assertEquals(files.filter((n) => n.endsWith(".webp")).length, clips, files.join(" "));
  assertEquals(files.filter((n) => n.endsWith(".gif")).length, gif ? clips : 0, files.join(" "));
  assertEquals(files.filter((n) => n.endsWith(".png")).length, clips, files.join(" "));
  // Animations are upscaled to about 96 px a side.
  const scale = Math.max(1, Math.floor(96 / side));
  for (const format of gif ? ["webp", "gif"] : ["webp"]) {
    const meta = await sharp(`${out}/images/000000_0.${format}`).metadata();
    assertEquals(meta.format, format);
    assertEquals([meta.pages, meta.width, meta.height], [frames, side * scale, side * scale]);
    assertEquals(meta.delay, new Array(frames).fill(250)); // 4 frames a second
    assertEquals(meta.loop, 0);
  }
  // Every frame of the animation is the clip's frame strip, upscaled.
  const strip = await sharp(`${out}/images/000000_0.png`).raw().toBuffer({
    resolveWithObject: true,
  });
  assertEquals([strip.info.width, strip.info.height], [frames * side, side]);
  const pages = await sharp(`${out}/images/000000_0.webp`, { animated: true }).raw().toBuffer({
    resolveWithObject: true,
  });
  const big = side * scale;
  for (let f = 0; f < frames; f++) {
    for (const [x, y] of [[0, 0], [side - 1, side - 1], [side >> 1, 1], [1, side >> 1]]) {
      const s = (y * strip.info.width + f * side + x) * strip.info.channels;
      const d = ((f * big + y * scale + 1) * big + x * scale + scale - 1) * pages.info.channels;
      assertEquals(
        [...pages.data.subarray(d, d + 3)],
        [...strip.data.subarray(s, s + 3)],
        `frame ${f} (${x}, ${y})`,
      );
    }
  }
}

Deno.test({
  name: "sample CLI with the tiny video model: tokens [N, F, H, W], strips, WebP and GIF per clip",
  ignore: !haveVideoModel,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sample-video-" });
    try {
      const codebook = await flatCodebook(dir);
      const common = ["--model", videoModel, "--codebook", codebook, "--classes", "0,1"];
      const run = await denoRun([
        cli,
        ...[...common, "--count", "2", "--seed", "3", "--out", `${dir}/out`, "--pngs", "--gif"],
      ]);
      assertEquals(run.code, 0, run.stderr);
      assert(run.stdout.includes("strips.png"), run.stdout);
      await checkVideoRun(`${dir}/out`, 4, true);
      const summary = JSON.parse(await Deno.readTextFile(`${dir}/out/run.json`));
      assertEquals(summary.run.grid, JSON.parse(await Deno.readTextFile(videoModel)).grid);
      // Without --pngs: the strips, and no per-clip files; decoded with the manifest's tokenizer.
      const own = ["--model", videoModel, "--classes", "0,1"];
      const plain = await denoRun([cli, ...own, "--out", `${dir}/plain`]);
      assertEquals(plain.code, 0, plain.stderr);
      assert((await Deno.stat(`${dir}/plain/strips.png`)).isFile);
      assert(!(await Deno.stat(`${dir}/plain/images`).then(() => true, () => false)));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("sample CLI refuses a clip schedule on an image model, naming grid.frames", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sample-video-" });
  try {
    await Deno.writeTextFile(`${dir}/clip.json`, scheduleToJSON(raster(makeGrid(24, 24, 5))));
    const run = await denoRun([cli, "--model", imageModel, "--schedule", `${dir}/clip.json`]);
    assertEquals(run.code, 1, run.stderr);
    const line = run.stderr.trim();
    assertEquals(line.split("\n").length, 1, line);
    for (const word of ["--schedule", "grid.frames is 5", "grid.frames is 1", "Fix:"]) {
      assert(line.includes(word), line);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "sample CLI refuses an image schedule on a video model, naming grid.frames",
  ignore: !haveVideoModel,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sample-video-" });
    try {
      const { grid } = JSON.parse(await Deno.readTextFile(videoModel));
      const still = `${dir}/still.json`;
      await Deno.writeTextFile(still, scheduleToJSON(raster(makeGrid(grid.height, grid.width))));
      const run = await denoRun([cli, "--model", videoModel, "--schedule", still]);
      assertEquals(run.code, 1, run.stderr);
      const line = run.stderr.trim();
      assertEquals(line.split("\n").length, 1, line);
      for (const word of ["grid.frames is 1", `grid.frames is ${grid.frames}`, "Fix:"]) {
        assert(line.includes(word), line);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("sample CLI refuses --gif and --fps on an image model, and --gif without --pngs", async () => {
  for (
    const [flags, words] of [
      [["--pngs", "--gif"], ["--gif", "still images", "Fix:"]],
      [["--fps", "8"], ["--fps", "still images", "Fix:"]],
      [["--gif"], ["--gif", "--pngs", "Fix:"]],
    ]
  ) {
    const run = await denoRun([cli, "--model", imageModel, ...flags]);
    assertEquals(run.code, 1, run.stderr);
    const line = run.stderr.trim();
    assertEquals(line.split("\n").length, 1, line);
    for (const word of words) assert(line.includes(word), `${flags.join(" ")}: ${line}`);
  }
});
