/**
 * Step 1 of the clip classifier recipe (run from the project root):
 *
 *   deno run -A --frozen main/classifier_clips.ts --out /tmp/parlab-clips
 *
 * Renders the real clips of the committed fixtures/video again with the clip builder's own
 * planning and rendering (src/data/build_clips.ts, clip_motion.ts: the same emoji, motions and
 * sprites from the manifest's seed and counts), checks that tokenizing them gives exactly the
 * committed token files (so clip i of a split is the clip behind token clip i), and decodes the
 * committed tokens too (the k-means reconstructions, what generated clips look like).
 *
 * Writes, per split s in {train, val}: s.clips.npy (uint8 [N,5,24,24,3], real clips), s.recon.npy
 * (uint8 [N,5,24,24,3], decoded fixture tokens), s.labels.npy (uint8 [N], motion class), and
 * classes.json. Step 2 is `python/classifier/train_clips.py`; `deno task classifier:clips` runs
 * both.
 * @module
 */
import { emojiPools, planClips, type PlannedClip } from "../src/data/build_clips.ts";
import { listEmojiPictures } from "../src/data/build_emoji.ts";
import { CLIP_GENERATOR, posesOf, renderClip, type Sprite } from "../src/data/clip_motion.ts";
import { loadSprites } from "../src/data/clip_sprites.ts";
import {
  loadVideoDataset,
  loadVideoManifest,
  VIDEO_FIXTURE_DIR,
  type VideoSplit,
} from "../src/data/video_fixture.ts";
import { PatchKMeansTokenizer } from "../src/tokenizer/mod.ts";
import { saveNpyFile } from "../src/io/mod.ts";
import { parseFlags, runMain } from "../src/util/cli.ts";
import { UsageError } from "../src/util/errors.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";
import { z } from "../src/deps/zod.ts";

const Flags = z.object({ out: z.string().min(1).default("/tmp/parlab-clips") });

/** Render planned clips back to front (distractor, then main), frame-major, as the builder does. */
function render(plans: PlannedClip[], sprites: Map<string, Sprite>): Uint8Array {
  const { frames, frameSize: size } = CLIP_GENERATOR;
  const per = frames * size * size * 3;
  const data = new Uint8Array(plans.length * per);
  plans.forEach((clip, i) => {
    const layers = [clip.distractor, clip.main].filter((l) => l !== undefined).map((l) => ({
      sprite: sprites.get(l.item.file)!,
      poses: posesOf(l),
    }));
    data.set(renderClip(layers), i * per);
  });
  return data;
}

async function main(): Promise<void> {
  const { out } = parseFlags(Deno.args, Flags, [], "usage: classifier_clips.ts [--out DIR]");
  const manifest = await loadVideoManifest();
  const { frames, frameSize, spriteTexels } = CLIP_GENERATOR;
  if (manifest.frames !== frames || manifest.imageSize !== frameSize) {
    throw new UsageError(
      `fixtures/video holds ${manifest.frames} frames of ${manifest.imageSize} px but the clip ` +
        `builder renders ${frames} of ${frameSize}. Fix: rebuild with \`deno task data:video\``,
    );
  }
  const tokenizer = await PatchKMeansTokenizer.load(
    new URL(manifest.tokenizer.codebook, VIDEO_FIXTURE_DIR),
  );
  const { items } = await listEmojiPictures({});
  const pools = emojiPools(items, manifest.split.valHashFraction);
  const seed = manifest.generator.seed;
  const plans: Record<VideoSplit, PlannedClip[]> = {
    train: planClips("train", manifest.counts.train.total, seed, pools.train),
    val: planClips("val", manifest.counts.val.total, seed, pools.val),
  };
  const files = [
    ...new Set(
      [...plans.train, ...plans.val].flatMap((c) =>
        [c.main, c.distractor].filter((l) => l !== undefined).map((l) => l.item.file)
      ),
    ),
  ];
  const sprites = await loadSprites(files, spriteTexels, 4);
  const dir = out.endsWith("/") ? out : `${out}/`;
  await Deno.mkdir(dir, { recursive: true });
  for (const split of ["train", "val"] as const) {
    const t0 = performance.now();
    const data = await loadVideoDataset(split);
    const pixels = render(plans[split], sprites);
    const clips = { n: data.n, frames, height: frameSize, width: frameSize, data: pixels };
    const encoded = tokenizer.encodeSync(clips);
    const differ = encoded.tokens.findIndex((t, i) => t !== data.tokens[i]);
    if (differ >= 0) {
      const cells = frames * data.height * data.width;
      throw new UsageError(
        `${split}: the re-rendered clip ${Math.floor(differ / cells)} tokenizes differently from ` +
          "the committed fixtures/video. Fix: rebuild the fixtures with `deno task data:video` " +
          "(the builder and the committed files disagree)",
      );
    }
    const labelsOk = plans[split].every((p, i) => p.label === data.labels[i]);
    if (!labelsOk) {
      throw new UsageError(
        `${split}: re-planned labels differ from the committed ones. Fix: \`deno task data:video\``,
      );
    }
    const recon = tokenizer.decodeSync(data);
    const shape = [data.n, frames, frameSize, frameSize, 3];
    await saveNpyFile(`${dir}${split}.clips.npy`, { dtype: "uint8", shape, data: pixels });
    await saveNpyFile(`${dir}${split}.recon.npy`, { dtype: "uint8", shape, data: recon.data });
    await saveNpyFile(`${dir}${split}.labels.npy`, {
      dtype: "uint8",
      shape: [data.n],
      data: Uint8Array.from(data.labels),
    });
    console.log(`${split}: ${data.n} clips in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  await writeFileAtomic(
    `${dir}classes.json`,
    JSON.stringify({ classNames: manifest.classNames }) + "\n",
  );
  console.log(`wrote ${dir}`);
}

if (import.meta.main) await runMain("classifier_clips", main);
