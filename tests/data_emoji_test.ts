/**
 * Emoji dataset: split determinism, skipping unreadable pictures, token/label file checks, the
 * committed fixtures, and byte-identical rebuilds of a small slice (set UPDATE_GOLDEN=1 to
 * rewrite tests/golden/emoji_slice.json after an intended change).
 */
import { assert, assertEquals } from "./assert.ts";
import { importByUrl } from "./deno_run.ts";
import {
  buildEmojiFixtures,
  EMOJI_FIXTURE_FILES,
  type EmojiBuildOptions,
} from "../src/data/build_emoji.ts";
import { emojiPackageDir, listEmojiItems, splitOf } from "../src/data/emoji_source.ts";
import { loadPictures } from "../src/data/images.ts";
import {
  loadEmojiDataset,
  loadEmojiManifest,
  loadPatchTokenizer,
} from "../src/data/emoji_fixture.ts";
import { loadLabelFile, loadTokenFile } from "../src/data/token_files.ts";
import { sha256Hex } from "../src/io/hash.ts";
import { saveNpyFile } from "../src/io/npy.ts";
import { loadSharp } from "../src/deps/sharp.ts";

const sharp = await loadSharp();

const FIXTURES = new URL("../fixtures/emoji/", import.meta.url);
const GOLDEN = new URL("./golden/emoji_slice.json", import.meta.url);
const SLICE: Omit<EmojiBuildOptions, "outDir"> = {
  maxEmoji: 40,
  k: 32,
  samplePatches: 5000,
  iterations: 4,
  seed: 7,
  valHashFraction: 0.3,
};

async function rejects(p: Promise<unknown>, includes: string): Promise<string> {
  const err = await p.then(() => null, (e) => e as Error);
  assert(err instanceof Error, `expected an error containing "${includes}"`);
  assert(err.message.includes(includes), `"${err.message}" lacks "${includes}"`);
  return err.message;
}

Deno.test("split: decided by the base code point, the same for both drawing sets", async () => {
  assertEquals(splitOf("1F600"), splitOf("1F600"));
  assertEquals(splitOf("1f600"), splitOf("1F600"));
  const twitter = await listEmojiItems("twitter", await emojiPackageDir("twitter"));
  const google = await listEmojiItems("google", await emojiPackageDir("google"));
  const sideOf = new Map(twitter.map((it) => [it.unified, splitOf(it.baseUnified)]));
  let val = 0;
  for (const it of google) {
    const side = splitOf(it.baseUnified);
    if (sideOf.has(it.unified)) assertEquals(side, sideOf.get(it.unified), it.unified);
    if (side === "val") val++;
  }
  const fraction = val / google.length;
  assert(fraction > 0.07 && fraction < 0.13, `val fraction ${fraction}`);
  // The committed item lists agree: no code point appears on both sides.
  const items = JSON.parse(await Deno.readTextFile(new URL("items.json", FIXTURES)));
  const valCodes = new Set((items.val as string[]).map((s) => s.split(":")[1]));
  for (const s of items.train as string[]) assert(!valCodes.has(s.split(":")[1]), s);
});

Deno.test("unreadable pictures are skipped and counted, never a crash", async () => {
  const good = await sharp({
    create: { width: 64, height: 64, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } },
  }).png().toBuffer();
  const truncated = good.subarray(0, 40);
  const { images, kept, skipped } = await loadPictures(
    [
      new Uint8Array(good),
      new Uint8Array([1, 2, 3]),
      "/nonexistent/x.png",
      new Uint8Array(truncated),
    ],
    48,
  );
  assertEquals(kept, [0]);
  assertEquals(images.n, 1);
  assertEquals(skipped.map((s) => s.index), [1, 2, 3]);
  assertEquals(skipped[1].source, "/nonexistent/x.png");
  // Half-transparent red on white: (255, 128, 128) give or take rounding.
  assertEquals([
    images.data[0],
    Math.abs(images.data[1] - 128) <= 1,
    images.data[2] - images.data[1],
  ], [
    255,
    true,
    0,
  ]);
});

/** A fake node_modules with two tiny emoji packages; `corrupt` pictures hold garbage bytes. */
async function fakePackages(dir: string, corrupt: Set<string>): Promise<void> {
  const emoji = Array.from({ length: 12 }, (_, i) => ({
    unified: (0x1f600 + i).toString(16).toUpperCase(),
    image: `${(0x1f600 + i).toString(16)}.png`,
    category: i % 3 === 0 ? "Flags" : i === 11 ? "Component" : "Smileys & Emotion",
    sort_order: i,
  }));
  for (const set of ["twitter", "google"]) {
    const pkg = `${dir}/emoji-datasource-${set}`;
    await Deno.mkdir(`${pkg}/img/${set}/64`, { recursive: true });
    await Deno.writeTextFile(`${pkg}/package.json`, JSON.stringify({ version: "16.0.0" }));
    await Deno.writeTextFile(
      `${pkg}/categories.json`,
      JSON.stringify({ "Smileys & Emotion": {}, "Component": {}, "Flags": {} }),
    );
    await Deno.writeTextFile(`${pkg}/emoji.json`, JSON.stringify(emoji));
    for (const [i, e] of emoji.entries()) {
      const file = `${pkg}/img/${set}/64/${e.image}`;
      if (corrupt.has(`${set}:${e.unified}`)) {
        await Deno.writeFile(file, new TextEncoder().encode("not a png"));
        continue;
      }
      const png = await sharp({
        create: {
          width: 64,
          height: 64,
          channels: 4,
          background: { r: i * 20, g: set === "google" ? 200 : 50, b: 255 - i * 20, alpha: 1 },
        },
      }).png().toBuffer();
      await Deno.writeFile(file, new Uint8Array(png));
    }
  }
}

Deno.test("a build over packages with corrupt PNGs skips them with a warning", async () => {
  const dir = await Deno.makeTempDir();
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (...args: unknown[]) => warnings.push(args.join(" "));
  try {
    await fakePackages(`${dir}/nm`, new Set(["google:1F601", "twitter:1F605"]));
    const manifest = await buildEmojiFixtures({
      outDir: `${dir}/out`,
      nodeModules: `${dir}/nm`,
      k: 8,
      samplePatches: 2000,
      iterations: 3,
      valHashFraction: 0.5,
    });
    assertEquals(manifest.counts.skipped, 2);
    assertEquals(manifest.counts.train.total + manifest.counts.val.total, 2 * 11 - 2);
    assertEquals(manifest.classNames, ["Smileys & Emotion", "Flags"]);
    assertEquals(warnings.length, 1);
    assert(warnings[0].includes("skipped 2 unreadable pictures"), warnings[0]);
    const val = await loadEmojiDataset("val", `${dir}/out`);
    assertEquals(val.n, manifest.counts.val.total);
  } finally {
    console.warn = warn;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("token and label files: each check says what failed", async () => {
  const dir = await Deno.makeTempDir();
  const expect = { vocabSize: 1024, height: 24, width: 24 };
  try {
    const f = (name: string) => `${dir}/${name}`;
    await saveNpyFile(f("ok.npy.gz"), {
      dtype: "uint16",
      shape: [2, 24, 24],
      data: new Uint16Array(1152),
    });
    assertEquals((await loadTokenFile(f("ok.npy.gz"), expect)).n, 2);
    await saveNpyFile(f("dtype.npy"), {
      dtype: "int32",
      shape: [2, 24, 24],
      data: new Int32Array(1152),
    });
    await rejects(loadTokenFile(f("dtype.npy"), expect), "dtype is int32, expected uint16");
    await saveNpyFile(f("dims.npy"), {
      dtype: "uint16",
      shape: [2, 576],
      data: new Uint16Array(1152),
    });
    await rejects(loadTokenFile(f("dims.npy"), expect), "expected 3 dimensions");
    await saveNpyFile(f("h.npy"), {
      dtype: "uint16",
      shape: [2, 16, 36],
      data: new Uint16Array(1152),
    });
    await rejects(loadTokenFile(f("h.npy"), expect), "expected grid height 24");
    await saveNpyFile(f("w.npy"), {
      dtype: "uint16",
      shape: [2, 24, 12],
      data: new Uint16Array(576),
    });
    await rejects(
      loadTokenFile(f("w.npy"), { vocabSize: 1024, width: 24 }),
      "expected grid width 24",
    );
    const big = new Uint16Array(1152);
    big[576 + 24 * 3 + 5] = 1024;
    await saveNpyFile(f("k.npy.gz"), { dtype: "uint16", shape: [2, 24, 24], data: big });
    const msg = await rejects(loadTokenFile(f("k.npy.gz"), expect), "is not below K = 1024");
    assert(msg.includes("grid 1, row 3, col 5"), msg);
    await Deno.writeFile(f("junk.npy.gz"), new Uint8Array([0x1f, 0x8b, 1, 2, 3]));
    await rejects(loadTokenFile(f("junk.npy.gz"), expect), "corrupt gzip");
    await rejects(loadTokenFile(f("missing.npy.gz"), expect), "cannot read");

    await saveNpyFile(f("l.npy"), { dtype: "uint8", shape: [3], data: new Uint8Array([0, 9, 1]) });
    await rejects(
      loadLabelFile(f("l.npy"), { n: 3, numClasses: 9 }),
      "label 9 at 1 is not below 9",
    );
    await rejects(loadLabelFile(f("l.npy"), { n: 4, numClasses: 9 }), "expected (4,)");
    await Deno.writeTextFile(
      f("manifest.json"),
      JSON.stringify({ format: "parlab-emoji-tokens/1" }),
    );
    await rejects(loadEmojiManifest(dir), "field 'classNames'");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("committed fixtures: hashes, shapes, sizes, PSNR and re-encoding agree", async () => {
  const manifest = await loadEmojiManifest();
  let total = 0;
  for (const name of EMOJI_FIXTURE_FILES) {
    const bytes = await Deno.readFile(new URL(name, FIXTURES));
    total += bytes.length;
    if (name === "manifest.json") continue;
    assertEquals(await sha256Hex(bytes), manifest.files[name].sha256, name);
  }
  assert(total <= 8 * 1024 * 1024, `fixtures take ${total} bytes`);
  assert(manifest.psnrVal >= 27, `val PSNR ${manifest.psnrVal}`);
  const train = await loadEmojiDataset("train");
  const val = await loadEmojiDataset("val");
  assertEquals([train.n, val.n], [manifest.counts.train.total, manifest.counts.val.total]);
  assertEquals([val.height, val.width, val.vocabSize], [24, 24, 1024]);
  assertEquals(val.classNames.length, 9);
  assert(!val.classNames.includes("Component"));
  // Decoding and re-encoding a token grid is stable: every decoded patch is its own code.
  const tok = await loadPatchTokenizer();
  const grids = { n: 20, height: 24, width: 24, tokens: val.tokens.subarray(0, 20 * 576) };
  const again = await tok.encode(await tok.decode(grids));
  let same = 0;
  for (let i = 0; i < again.tokens.length; i++) same += again.tokens[i] === grids.tokens[i] ? 1 : 0;
  assert(same / again.tokens.length > 0.99, `re-encoding kept ${same}/${again.tokens.length}`);
});

Deno.test("a slice build is byte-identical twice and matches the golden hashes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await buildEmojiFixtures({ ...SLICE, outDir: `${dir}/a` });
    await buildEmojiFixtures({ ...SLICE, outDir: `${dir}/b` });
    const hashes: Record<string, string> = {};
    for (const name of EMOJI_FIXTURE_FILES) {
      const a = await Deno.readFile(`${dir}/a/${name}`);
      assertEquals(a, await Deno.readFile(`${dir}/b/${name}`), name);
      hashes[name] = await sha256Hex(a);
    }
    if (Deno.env.get("UPDATE_GOLDEN") === "1") {
      await Deno.writeTextFile(
        GOLDEN,
        JSON.stringify({ options: SLICE, sha256: hashes }, null, 2) + "\n",
      );
    }
    const golden = JSON.parse(await Deno.readTextFile(GOLDEN));
    assertEquals(golden.options, SLICE);
    assertEquals(hashes, golden.sha256);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the committed codebook re-encodes the val pictures to the committed val tokens", async () => {
  const items = JSON.parse(await Deno.readTextFile(new URL("items.json", FIXTURES)));
  const dirs = {
    twitter: await emojiPackageDir("twitter"),
    google: await emojiPackageDir("google"),
  };
  const files = (items.val as string[]).map((s) => {
    const [set, unified] = s.split(":") as ["twitter" | "google", string];
    return `${dirs[set]}img/${set}/64/${unified.toLowerCase()}.png`;
  });
  const { images, skipped } = await loadPictures(files, 48);
  assertEquals(skipped, []);
  const tok = await loadPatchTokenizer();
  const val = await loadEmojiDataset("val");
  assertEquals((await tok.encode(images)).tokens, val.tokens);
});

Deno.test("the loaders work when the project is imported by URL", async () => {
  const result = await importByUrl(
    "src/data/mod.ts",
    `const val = await m.loadEmojiDataset("val");
     const tok = await m.loadPatchTokenizer();
     console.log(JSON.stringify({ n: val.n, k: tok.vocabSize }));`,
  );
  const manifest = await loadEmojiManifest();
  assertEquals(result, { n: manifest.counts.val.total, k: 1024 });
});
