/**
 * Moving-emoji clips (`deno task data:video`): byte-identical small rebuilds, motion that shows
 * in every class, sprites that stay inside the frame, the train/val split by base emoji, the
 * loader's checks against the manifest, the CLI's one-line flag errors, and the committed set.
 */
import { assert, assertEquals } from "./assert.ts";
import { denoRun, expectFlagErrors } from "./deno_run.ts";
import {
  buildVideoFixtures,
  EMOJI16_FIXTURE_DIR,
  emojiPools,
  planClips,
  renderVideoClips,
  VIDEO_FIXTURE_FILES,
} from "../src/data/build_clips.ts";
import { listEmojiPictures } from "../src/data/build_emoji.ts";
import { splitOf } from "../src/data/emoji_source.ts";
import { loadPatchTokenizer } from "../src/data/emoji_fixture.ts";
import {
  CLIP_GENERATOR,
  drawClipMotion,
  insideFrame,
  MOTION_CLASSES,
  type Pose,
  posesOf,
  renderClip,
  type Sprite,
  spriteFromRgba,
} from "../src/data/clip_motion.ts";
import {
  loadVideoDataset,
  loadVideoManifest,
  type VideoManifest,
} from "../src/data/video_fixture.ts";
import { gunzip } from "../src/io/gzip.ts";
import { sha256Hex } from "../src/io/hash.ts";
import { Rng } from "../src/util/rng.ts";

const SIZE = CLIP_GENERATOR.frameSize;
const FRAMES = CLIP_GENERATOR.frames;
const SMALL = { train: 8, val: 4, seed: 3 };

async function rejects(p: Promise<unknown>, ...includes: string[]): Promise<string> {
  const err = await p.then(() => null, (e) => e as Error);
  assert(err instanceof Error, `expected an error containing ${includes.join(", ")}`);
  for (const s of includes) assert(err.message.includes(s), `"${err.message}" lacks "${s}"`);
  return err.message;
}

/** An opaque sprite whose four quadrants have different colours, so a turn shows. */
function quadrantSprite(texels = 48): Sprite {
  const rgba = new Uint8Array(texels * texels * 4);
  const colours = [[220, 30, 30], [30, 160, 30], [30, 30, 220], [240, 200, 0]];
  for (let y = 0; y < texels; y++) {
    for (let x = 0; x < texels; x++) {
      const q = (y < texels / 2 ? 0 : 2) + (x < texels / 2 ? 0 : 1);
      rgba.set([...colours[q], 255], (y * texels + x) * 4);
    }
  }
  return spriteFromRgba(rgba, texels);
}

/** Sum over a frame of how far each pixel is from white, in units of a fully black pixel. */
function inkOf(rgb: Uint8Array, frame: number): number {
  const per = SIZE * SIZE * 3;
  let s = 0;
  for (let i = frame * per; i < (frame + 1) * per; i++) s += (255 - rgb[i]) / 255;
  return s / 3;
}

Deno.test("video build: two small builds are byte-identical and load back", async () => {
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  try {
    for (const outDir of dirs) await buildVideoFixtures({ outDir, ...SMALL });
    for (const name of VIDEO_FIXTURE_FILES) {
      const [a, b] = await Promise.all(dirs.map((d) => Deno.readFile(`${d}/${name}`)));
      assertEquals(await sha256Hex(a), await sha256Hex(b), name);
    }
    const manifest = await loadVideoManifest(dirs[0]);
    for (const name of VIDEO_FIXTURE_FILES.filter((n) => n !== "manifest.json")) {
      const bytes = await Deno.readFile(`${dirs[0]}/${name}`);
      assertEquals(manifest.files[name].sha256, await sha256Hex(bytes), name);
    }
    const train = await loadVideoDataset("train", dirs[0]);
    assertEquals([train.n, train.frames, train.height, train.width], [8, 5, 8, 8]);
    assertEquals(train.tokens.length, 8 * 320);
    assertEquals(train.classNames, ["slide", "bounce", "zoom", "spin"]);
    assertEquals(manifest.counts.train.perClass, { slide: 2, bounce: 2, zoom: 2, spin: 2 });
    // renderVideoClips gives the pixels the build tokenized.
    const rendered = await renderVideoClips(SMALL);
    const tokenizer = await loadPatchTokenizer(EMOJI16_FIXTURE_DIR);
    assertEquals(tokenizer.encodeSync(rendered.train.images).tokens, train.tokens);
    assertEquals(rendered.train.labels, train.labels);
    // Every clip's record explains it: the main motion's kind is its label.
    const clips = JSON.parse(
      new TextDecoder().decode(gunzip(await Deno.readFile(`${dirs[0]}/clips.json.gz`))),
    );
    assertEquals(
      clips.train.map((c: { kind: string }) => c.kind),
      [...train.labels].map((l) => train.classNames[l]),
    );
  } finally {
    for (const d of dirs) await Deno.remove(d, { recursive: true });
  }
});

Deno.test("video clips: every motion type renders a clip whose frames differ", () => {
  const sprite = quadrantSprite();
  const per = SIZE * SIZE * 3;
  for (const kind of MOTION_CLASSES) {
    for (let seed = 0; seed < 20; seed++) {
      const { main } = drawClipMotion(new Rng(seed), kind);
      const rgb = renderClip([{ sprite, poses: posesOf(main) }]);
      for (let f = 1; f < FRAMES; f++) {
        let changed = 0;
        for (let i = 0; i < per; i++) if (rgb[f * per + i] !== rgb[(f - 1) * per + i]) changed++;
        // At least 5% of the values move from one frame to the next.
        assert(changed > per / 20, `${kind} seed ${seed}: frame ${f} changes ${changed} values`);
      }
    }
  }
});

Deno.test("video clips: the sprite stays inside the frame, and rendering keeps all of it", () => {
  // Geometry: every pose of every layer keeps the whole square inside, for many draws.
  for (const kind of MOTION_CLASSES) {
    for (let seed = 0; seed < 500; seed++) {
      const clip = drawClipMotion(new Rng(1000 + seed), kind);
      assertEquals(clip.main.motion.kind, kind);
      assert(insideFrame(posesOf(clip.main)), `${kind} seed ${seed}: main leaves the frame`);
      if (clip.distractor) {
        assert(clip.distractor.side < clip.main.side, `${kind} seed ${seed}: distractor too big`);
        assert(insideFrame(posesOf(clip.distractor)), `${kind} seed ${seed}: distractor leaves`);
      }
    }
  }
  // Pixels: an opaque black square drawn at each pose leaves side^2 pixels of ink, so none of it
  // was cut off by the frame edge; a pose half outside loses about half.
  const black = spriteFromRgba(
    new Uint8Array(48 * 48 * 4).map((_, i) => (i % 4 === 3 ? 255 : 0)),
    48,
  );
  for (const kind of MOTION_CLASSES) {
    for (let seed = 0; seed < 10; seed++) {
      const poses = posesOf(drawClipMotion(new Rng(seed), kind).main);
      const rgb = renderClip([{ sprite: black, poses }]);
      poses.forEach((p, f) => {
        const ink = inkOf(rgb, f);
        assert(Math.abs(ink - p.side * p.side) < 0.02 * p.side * p.side, `${kind}: ${ink}`);
      });
    }
  }
  const outside: Pose = { x: 24, y: 12, side: 12, angle: 0 };
  assert(!insideFrame([outside]));
  const cut = inkOf(renderClip([{ sprite: black, poses: [outside] }], 1), 0);
  assert(Math.abs(cut - 72) < 3, `half outside: ${cut}`);
});

Deno.test("video split: clips never put a val emoji in train", async () => {
  const { items } = await listEmojiPictures({});
  const pools = emojiPools(items);
  const trainBases = new Set(pools.train.bases);
  for (const b of pools.val.bases) assert(!trainBases.has(b), `${b} in both pools`);
  for (const split of ["train", "val"] as const) {
    for (const clip of planClips(split, 2000, 0, pools[split])) {
      for (const layer of [clip.main, clip.distractor]) {
        if (!layer) continue;
        assertEquals(splitOf(layer.item.baseUnified), split, layer.item.unified);
      }
      if (clip.distractor) {
        assert(clip.distractor.item.baseUnified !== clip.main.item.baseUnified, "same emoji");
      }
    }
  }
  // Classes are balanced in every block of 4.
  const labels = planClips("val", 400, 0, pools.val).map((c) => c.label);
  for (let b = 0; b < 100; b++) {
    assertEquals(labels.slice(4 * b, 4 * b + 4).sort(), [0, 1, 2, 3]);
  }
});

Deno.test("video loader: a manifest that disagrees with the token file names the field", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await buildVideoFixtures({ outDir: dir, ...SMALL });
    const original = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    const withManifest = async (edit: (m: VideoManifest) => void) => {
      const m: VideoManifest = structuredClone(original);
      edit(m);
      await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(m));
    };
    // A consistent manifest whose grid is not the token file's.
    await withManifest((m) => {
      m.frames = 4;
      m.grid.frames = 4;
    });
    await rejects(
      loadVideoDataset("val", dir),
      "field 'grid.frames' is 4",
      "5 x 8 x 8",
      "data:video",
    );
    await withManifest((m) => {
      m.grid.height = 7;
    });
    await rejects(loadVideoDataset("val", dir), "field 'grid.height'");
    await withManifest((m) => {
      m.counts.val.total = 5;
    });
    await rejects(loadVideoDataset("val", dir), "field 'counts.val.total' is 5", "holds 4 clips");
    await withManifest((m) => {
      delete (m as Partial<VideoManifest>).K;
    });
    await rejects(loadVideoDataset("train", dir), "field 'K'");
    await withManifest((m) => {
      (m as { format: string }).format = "parlab-video-tokens/2";
    });
    await rejects(loadVideoDataset("train", dir), "field 'format'");
    await withManifest(() => {});
    assertEquals((await loadVideoDataset("val", dir)).n, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data:video CLI: bad flags fail with one line naming the flag", async () => {
  const cli = new URL("../main/data_video.ts", import.meta.url).pathname;
  await expectFlagErrors(
    cli,
    "data:video",
    [
      [["--train", "0"], "--train"],
      [["--val", "many"], "--val"],
      [["--val", "1.5"], "--val"],
      [["--seed", "-1"], "--seed"],
      [["--bogus"], "--bogus"],
    ],
  );
  const help = await denoRun([cli, "--help"]);
  assertEquals(help.code, 0);
  assert(help.stdout.startsWith("Usage: deno task data:video"), help.stdout);
});

Deno.test("committed video fixtures: shapes, balance, checksums", async () => {
  const manifest = await loadVideoManifest();
  for (const name of Object.keys(manifest.files)) {
    const bytes = await Deno.readFile(new URL(`../fixtures/video/${name}`, import.meta.url));
    assertEquals(await sha256Hex(bytes), manifest.files[name].sha256, name);
  }
  const codebook = await Deno.readFile(
    new URL("../fixtures/emoji16/codebook.npy.gz", import.meta.url),
  );
  assertEquals(await sha256Hex(codebook), manifest.tokenizer.sha256, "emoji16 codebook");
  for (const split of ["train", "val"] as const) {
    const d = await loadVideoDataset(split);
    assertEquals([d.frames, d.height, d.width, d.vocabSize], [5, 8, 8, 1024]);
    const perClass = [0, 0, 0, 0];
    for (const l of d.labels) perClass[l]++;
    assertEquals(perClass, [d.n / 4, d.n / 4, d.n / 4, d.n / 4], split);
  }
});
