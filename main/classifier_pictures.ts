/**
 * Step 1 of the emoji classifier recipe (run from the project root):
 *
 *   deno run -A --frozen main/classifier_pictures.ts --out /tmp/parlab-classifier
 *
 * Renders the real 48x48 emoji pictures with the data helper's loader (the npm packages
 * emoji-datasource-twitter/google, composited on white, lanczos3 resize: the same pixels the
 * token fixtures were encoded from), in exactly the order of fixtures/emoji/items.json, so that
 * picture i of a split is the picture behind token grid i. Also decodes the committed token grids
 * (the k-means reconstructions, what generated samples look like) so training can use both.
 *
 * Writes, per split s in {train, val}: s.images.npy (uint8 [N,48,48,3], real pictures),
 * s.recon.npy (uint8 [N,48,48,3], decoded fixture tokens), s.labels.npy (uint8 [N]), and
 * classes.json. Step 2 is `python/classifier/train.py`.
 * @module
 */
import {
  EMOJI_FIXTURE_DIR,
  EMOJI_SETS,
  type EmojiItem,
  emojiPackageDir,
  listEmojiItems,
  loadEmojiDataset,
  loadEmojiManifest,
  loadPatchTokenizer,
  loadPictures,
} from "../src/data/mod.ts";
import { saveNpyFile } from "../src/io/mod.ts";
import { parseFlags, runMain } from "../src/util/cli.ts";
import { UsageError } from "../src/util/errors.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";
import { z } from "../src/deps/zod.ts";

const Flags = z.object({ out: z.string().min(1).default("/tmp/parlab-classifier") });

async function main(): Promise<void> {
  const { out } = parseFlags(Deno.args, Flags, [], "usage: pictures.ts [--out DIR]");
  const manifest = await loadEmojiManifest();
  const itemsJson = JSON.parse(
    await Deno.readTextFile(new URL("items.json", EMOJI_FIXTURE_DIR)),
  ) as { train: string[]; val: string[] };
  const byKey = new Map<string, EmojiItem>();
  for (const set of EMOJI_SETS) {
    for (const it of await listEmojiItems(set, await emojiPackageDir(set))) {
      byKey.set(`${it.set}:${it.unified}`, it);
    }
  }
  const tokenizer = await loadPatchTokenizer();
  const dir = out.endsWith("/") ? out : `${out}/`;
  for (const split of ["train", "val"] as const) {
    const keys = itemsJson[split];
    const files = keys.map((k) => {
      const it = byKey.get(k);
      if (!it) throw new UsageError(`items.json names ${k}, which the packages do not list`);
      return it.file;
    });
    const t0 = performance.now();
    const loaded = await loadPictures(files, manifest.imageSize, 4);
    if (loaded.skipped.length > 0) {
      throw new UsageError(`${loaded.skipped.length} ${split} pictures failed to load`);
    }
    const data = await loadEmojiDataset(split);
    if (data.n !== loaded.images.n) {
      throw new UsageError(`${split}: ${loaded.images.n} pictures but ${data.n} token grids`);
    }
    const recon = tokenizer.decodeSync(data);
    const s = manifest.imageSize;
    await saveNpyFile(`${dir}${split}.images.npy`, {
      dtype: "uint8",
      shape: [data.n, s, s, 3],
      data: loaded.images.data,
    });
    await saveNpyFile(`${dir}${split}.recon.npy`, {
      dtype: "uint8",
      shape: [data.n, s, s, 3],
      data: recon.data,
    });
    await saveNpyFile(`${dir}${split}.labels.npy`, {
      dtype: "uint8",
      shape: [data.n],
      data: data.labels,
    });
    console.log(
      `${split}: ${data.n} pictures in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  await writeFileAtomic(
    `${dir}classes.json`,
    JSON.stringify({ classNames: manifest.classNames }) + "\n",
  );
  console.log(`wrote ${dir}`);
}

if (import.meta.main) await runMain("pictures", main);
