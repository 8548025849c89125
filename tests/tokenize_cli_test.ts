/**
 * `deno task tokenize` end to end on a small ImageNet-layout folder built from the emoji PNGs
 * (three classes, one broken picture, one non-picture file, one non-square picture): shapes,
 * labels, the skipped list, an interrupted run resumed to the same tokens, `deno task dependency
 * --tokens` on the result, bad inputs (one line naming the flag), the folder order against
 * torchvision's rules, and the pre-processing against Pillow (where Python has it).
 */
import { assert, assertEquals } from "./assert.ts";
import { loadNpyFile } from "../src/io/mod.ts";
import { emojiPackageDir, loadTokenSet } from "../src/data/mod.ts";
import { loadSharp } from "../src/deps/sharp.ts";
import { centerCropArr, listImageFolder, PIXEL_TO_UNIT, preparePicture } from "../main/tokenize.ts";

const cli = new URL("../main/tokenize.ts", import.meta.url).pathname;
const dependencyCli = new URL("../main/dependency.ts", import.meta.url).pathname;
const vq = new URL("../fixtures/tokenizers/vq-tiny16.tokenizer.json", import.meta.url).pathname;
const codebook = new URL("../fixtures/emoji/codebook.npy.gz", import.meta.url).pathname;
const model = new URL("../fixtures/models/random-par4-vq.json", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `deno run -A <args>` with progress bars off (so stderr holds only messages). */
async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-A", ...args],
    env: { PARLAB_QUIET: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/**
 * `<dir>/images/`: ant/ (3 emoji + notes.txt), bee/ (3 emoji + broken.png), cat/ (2 emoji + an
 * 80x64 picture, so the centre crop cuts): 10 picture files, 9 readable.
 */
async function makeFolder(dir: string): Promise<string> {
  const src = `${await emojiPackageDir("twitter")}img/twitter/64/`;
  const pngs = [...Deno.readDirSync(src)].map((e) => e.name).filter((n) => n.endsWith(".png"))
    .sort();
  const pick = (i: number) => pngs[(i * 211 + 40) % pngs.length];
  const root = `${dir}/images`;
  const classes = { ant: [0, 1, 2], bee: [3, 4, 5], cat: [6, 7] };
  for (const [cls, ids] of Object.entries(classes)) {
    await Deno.mkdir(`${root}/${cls}`, { recursive: true });
    for (const i of ids) await Deno.copyFile(`${src}${pick(i)}`, `${root}/${cls}/${pick(i)}`);
  }
  await Deno.writeTextFile(`${root}/ant/notes.txt`, "not a picture");
  await Deno.writeFile(`${root}/bee/broken.png`, new Uint8Array(300).map((_, i) => i * 7));
  const sharp = await loadSharp();
  const wide = await sharp(`${src}${pick(8)}`).resize(80, 64, { fit: "fill" }).png().toBuffer();
  await Deno.writeFile(`${root}/cat/wide.png`, wide);
  return root;
}

Deno.test("tokenize CLI: VQ tokens, labels, skipped files; an interrupted run resumes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tokenize-cli-" });
  try {
    const images = await makeFolder(dir);
    const args = [cli, "--tokenizer", vq, "--images", images, "--size", "64", "--batch", "3"];
    const whole = await run([...args, "--out", `${dir}/whole`]);
    assertEquals(whole.code, 0, whole.stderr);
    assert(/9 pictures of 3 classes -> \[9, 4, 4\]/.test(whole.stdout), whole.stdout);
    const tokens = await loadNpyFile(`${dir}/whole/tokens.npy`);
    assertEquals(tokens.dtype, "uint16");
    assertEquals(tokens.shape, [9, 4, 4]);
    const labels = await loadNpyFile(`${dir}/whole/labels.npy`);
    assertEquals(labels.dtype, "uint8");
    assertEquals([...labels.data as Uint8Array], [0, 0, 0, 1, 1, 1, 2, 2, 2]);
    const m = JSON.parse(await Deno.readTextFile(`${dir}/whole/manifest.json`));
    assertEquals(m.format, "parlab-tokens/1");
    assertEquals(m.count, 9);
    assertEquals(m.grid, { height: 4, width: 4 });
    assertEquals(m.vocabSize, 1024);
    assertEquals(m.classNames, ["ant", "bee", "cat"]);
    assertEquals(m.perClass.map((c: { images: number }) => c.images), [3, 3, 3]);
    assertEquals(m.perClass.map((c: { skipped: number }) => c.skipped), [0, 1, 0]);
    assertEquals(m.tokenizer.kind, "vq");
    assertEquals(m.tokenizer.sha256.length, 64);
    assertEquals(m.size, 64);
    assertEquals(m.source.layout, "imagenet");
    const skipped = JSON.parse(await Deno.readTextFile(`${dir}/whole/skipped.json`));
    assertEquals(skipped.map((s: { file: string }) => s.file), ["ant/notes.txt", "bee/broken.png"]);
    assert(skipped[0].reason.includes("not a picture"), skipped[0].reason);
    assert(skipped[1].reason.startsWith("unreadable"), skipped[1].reason);
    assertEquals(m.skipped, skipped);
    assert(!(await exists(`${dir}/whole/parts`)), "parts removed after a complete run");
    const set = await loadTokenSet(`${dir}/whole`);
    assertEquals(set.count, 9);
    assertEquals(set.tokens, tokens.data);

    // Interrupted after 3 of 4 batches (the third holds the broken file), then resumed.
    const cut = await run([...args, "--out", `${dir}/cut`], { PARLAB_TOKENIZE_STOP_AFTER: "3" });
    assertEquals(cut.code, 3, cut.stderr);
    assert(await exists(`${dir}/cut/parts/0.npy`), "the first batch was saved");
    assert(!(await exists(`${dir}/cut/manifest.json`)), "the run stopped before it finished");
    const other = await run([
      ...[cli, "--tokenizer", vq, "--images", images, "--size", "32", "--batch", "3"],
      ...["--out", `${dir}/cut`],
    ]);
    assertEquals(other.code, 1, other.stderr);
    assertEquals(other.stderr.trim().split("\n").length, 1, other.stderr);
    assert(/--out: .*size differ.*--fresh/.test(other.stderr), other.stderr);
    const resumed = await run([...args, "--out", `${dir}/cut`]);
    assertEquals(resumed.code, 0, resumed.stderr);
    assert(
      resumed.stdout.includes("resuming: 8 pictures (9 of 10 files) were encoded before"),
      resumed.stdout,
    );
    assertEquals((await loadNpyFile(`${dir}/cut/tokens.npy`)).data, tokens.data);
    assertEquals((await loadNpyFile(`${dir}/cut/labels.npy`)).data, labels.data);
    const m2 = JSON.parse(await Deno.readTextFile(`${dir}/cut/manifest.json`));
    assertEquals(m2.skipped, skipped);
    assertEquals(m2.resumedImages, 8);
    assert(!(await exists(`${dir}/cut/parts`)), "parts removed once complete");

    // The folder feeds `deno task dependency`; the fixture VQ lists no codebook: coarse skipped.
    const dep = await run([dependencyCli, "--tokens", `${dir}/whole`, "--out", `${dir}/dep`]);
    assertEquals(dep.code, 0, dep.stderr);
    assert(dep.stdout.includes("note: coarse-grained pass skipped"), dep.stdout);
    const d = JSON.parse(await Deno.readTextFile(`${dir}/dep/dependency.json`));
    assertEquals(d.samples, 9);
    assertEquals(d.coarseGroups, undefined);
    assertEquals(d.notes.length, 1);
    assertEquals(d.source.classes, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tokenize CLI: patch k-means codebook at 48 px, then deno task dependency", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tokenize-cli-" });
  try {
    const images = await makeFolder(dir);
    const out = `${dir}/tokens`;
    const r = await run([
      cli,
      "--tokenizer",
      codebook,
      "--images",
      images,
      "--size",
      "48",
      "--out",
      out,
    ]);
    assertEquals(r.code, 0, r.stderr);
    const tokens = await loadNpyFile(`${out}/tokens.npy`);
    assertEquals(tokens.shape, [9, 24, 24]);
    const m = JSON.parse(await Deno.readTextFile(`${out}/manifest.json`));
    assertEquals(m.tokenizer.kind, "patch-kmeans");
    assertEquals(m.tokenizer.downsample, 2);
    const dep = await run([dependencyCli, "--tokens", out, "--out", `${dir}/dep`]);
    assertEquals(dep.code, 0, dep.stderr);
    const d = JSON.parse(await Deno.readTextFile(`${dir}/dep/dependency.json`));
    assertEquals(d.samples, 9);
    assertEquals(d.vocabSize, 1024);
    assertEquals(d.coarseGroups, 32, "the codebook gives the coarse pass");
    assertEquals(d.notes, []);
    assert(d.scheduleCosts.par4.steps === 147, JSON.stringify(d.scheduleCosts));
    assert(await exists(`${dir}/dep/figures/mi_distance.png`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tokenize CLI: bad inputs fail with one line naming the flag and the fix", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tokenize-cli-" });
  try {
    const images = await makeFolder(dir);
    await Deno.mkdir(`${dir}/empty`);
    await Deno.writeTextFile(`${dir}/empty/readme.txt`, "no pictures here");
    await Deno.mkdir(`${dir}/bad`);
    await Deno.writeFile(`${dir}/bad/a.jpg`, new Uint8Array(64).fill(9));
    await Deno.writeTextFile(`${dir}/file.txt`, "a file");
    const base = (o: Record<string, string>) => {
      const flags = { tokenizer: vq, images, size: "64", out: `${dir}/out`, ...o };
      return Object.entries(flags).filter(([, v]) => v !== "").flatMap(([k, v]) => [`--${k}`, v]);
    };
    const rows: [string[], string, RegExp][] = [
      [base({ images: `${dir}/nope` }), "--images", /does not exist/],
      [base({ images: `${dir}/file.txt` }), "--images", /is a file/],
      [base({ images: `${dir}/empty` }), "--images", /has no pictures/],
      [base({ images: `${dir}/bad` }), "--images", /none of the 1 pictures/],
      [base({ tokenizer: `${dir}/file.txt` }), "--tokenizer", /neither a VQ/],
      [base({ tokenizer: `${dir}/nope.json` }), "--tokenizer", /does not exist/],
      [base({ tokenizer: model }), "--tokenizer", /vq-tiny16\.tokenizer\.json/],
      [base({ size: "50" }), "--size", /not a multiple of .*16-pixel.*--size 48/],
      [base({ tokenizer: codebook, size: "47" }), "--size", /2-pixel/],
      [base({ size: "" }), "--size", /is required/],
      [base({ out: `${dir}/file.txt` }), "--out", /existing file/],
      [base({ out: `${images}/ant/out` }), "--out", /inside --images/],
      [[dependencyCli, "--tokens", `${dir}/nope`], "--tokens", /manifest\.json: not found/],
      [[dependencyCli, "--tokens", `${dir}/x`, "--split", "val"], "--split", /Fix: drop/],
    ];
    for (const [args, flag, pattern] of rows) {
      const r = await run(args[0].endsWith(".ts") ? args : [cli, ...args]);
      const lines = r.stderr.trim().split("\n");
      const what = `${args.join(" ")}: ${r.stderr}`;
      assertEquals(r.code, 1, what);
      assertEquals(lines.length, 1, what);
      assert(lines[0].includes(`${flag}:`) && pattern.test(lines[0]), what);
      assert(lines[0].includes("Fix"), what);
    }
    assert(!(await exists(`${dir}/out/tokens.npy`)), "nothing written by a refused run");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tokenize: the file list and labels follow torchvision's ImageFolder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tokenize-walk-" });
  try {
    const files = [
      "b/z.png",
      "b/sub/y.png",
      "b/sub-2/c.png",
      "b/sub/x/w.png",
      "a/Q.PNG",
      "a/q.jpg",
      "a/é.png",
      "a/e.png",
      "a/.hidden.png",
      "a/n.txt",
      "B/m.webp",
      "top.png",
    ];
    for (const f of files) {
      await Deno.mkdir(`${dir}/${f.split("/").slice(0, -1).join("/")}`, { recursive: true });
      await Deno.writeFile(`${dir}/${f}`, new Uint8Array(1));
    }
    const l = await listImageFolder(dir);
    assertEquals(l.layout, "imagenet");
    assertEquals(l.classNames, ["B", "a", "b"]);
    // Python's sorted(os.walk(...)) then sorted file names, by code point.
    assertEquals(l.files.map((f) => `${f.label}:${f.path}`), [
      "0:B/m.webp",
      "1:a/Q.PNG",
      "1:a/e.png",
      "1:a/q.jpg",
      "1:a/é.png",
      "2:b/z.png",
      "2:b/sub/y.png",
      "2:b/sub-2/c.png",
      "2:b/sub/x/w.png",
    ]);
    assertEquals(l.ignored.map((s) => s.file), ["a/n.txt", "top.png"]);
    const flat = await listImageFolder(`${dir}/a`);
    assertEquals(flat.layout, "flat");
    assertEquals(flat.classNames, ["a"]);
    assertEquals(flat.files.map((f) => f.path), ["Q.PNG", "e.png", "q.jpg", "é.png"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tokenize: pre-processing equals LlamaGen's center_crop_arr on Pillow", async () => {
  const python = "/usr/bin/python3";
  const ok = await new Deno.Command(python, { args: ["-c", "import numpy, PIL"] }).output()
    .then((o) => o.success, () => false);
  if (!ok) return; // checked where Python has NumPy and Pillow
  const dir = await Deno.makeTempDir({ prefix: "tokenize-pil-" });
  try {
    // ADM's center_crop_arr, as LlamaGen's dataset/augmentation.py has it.
    const script = `
import sys, numpy as np
from PIL import Image
def center_crop_arr(pil_image, image_size):
    while min(*pil_image.size) >= 2 * image_size:
        pil_image = pil_image.resize(tuple(x // 2 for x in pil_image.size), resample=Image.BOX)
    scale = image_size / min(*pil_image.size)
    pil_image = pil_image.resize(tuple(round(x * scale) for x in pil_image.size), resample=Image.BICUBIC)
    arr = np.array(pil_image)
    crop_y = (arr.shape[0] - image_size) // 2
    crop_x = (arr.shape[1] - image_size) // 2
    return arr[crop_y: crop_y + image_size, crop_x: crop_x + image_size]
d = sys.argv[1]
rng = np.random.default_rng(0)
for i, (w, h, s) in enumerate([(131, 97, 48), (300, 200, 64), (301, 257, 32), (40, 50, 64), (403, 301, 96)]):
    a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    if i % 2:
        yy, xx = np.mgrid[0:h, 0:w]
        a = np.stack([xx * 255 // (w - 1), yy * 255 // (h - 1), (xx * yy // 7) % 256], -1).astype(np.uint8)
    Image.fromarray(a).save(f"{d}/{i}.png")
    np.save(f"{d}/{i}.in.npy", a)
    np.save(f"{d}/{i}.out.npy", center_crop_arr(Image.open(f"{d}/{i}.png").convert("RGB"), s))
v = np.arange(256, dtype=np.float32)
np.save(f"{d}/unit.npy", (v / np.float32(255) - np.float32(0.5)) / np.float32(0.5))
`;
    const out = await new Deno.Command(python, { args: ["-c", script, dir] }).output();
    assert(out.success, new TextDecoder().decode(out.stderr));
    const sizes = [48, 64, 32, 64, 96];
    for (let i = 0; i < sizes.length; i++) {
      const input = await loadNpyFile(`${dir}/${i}.in.npy`);
      const want = (await loadNpyFile(`${dir}/${i}.out.npy`)).data as Uint8Array;
      const [h, w] = input.shape;
      const got = centerCropArr({ width: w, height: h, data: input.data as Uint8Array }, sizes[i]);
      assertEquals(got, want, `case ${i}: ${w}x${h} -> ${sizes[i]} from the array`);
      const viaPng = await preparePicture(await Deno.readFile(`${dir}/${i}.png`), sizes[i]);
      assertEquals(viaPng, want, `case ${i}: ${w}x${h} -> ${sizes[i]} from the PNG`);
    }
    assertEquals(PIXEL_TO_UNIT, (await loadNpyFile(`${dir}/unit.npy`)).data as Float32Array);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
