/**
 * `deno task fid` end to end on a handful of pictures with the random-weight FID Inception (1/16
 * width, exported at test time by `python -m python.inception --random-weights`): reference
 * statistics from a token set, FID/sFID of a set against its own statistics (0 within 1e-6),
 * the same pictures read as tokens, as an `.npz` (stored and deflated `arr_0`, written by fflate
 * and by NumPy's savez / savez_compressed) and as a PNG folder, precision/recall from a
 * reference's `arr_0`, statistics computed from `arr_0` when the reference has none, the results
 * JSON, and the one-line user errors. Also the exact low-rank Fréchet path against the full one,
 * and any feature model (the emoji CNN: no spatial output, so sFID is skipped with a note).
 */
import { hasTorch, PYTHON } from "./python.ts";
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { denoRun } from "./deno_run.ts";
import { loadEmojiDataset, loadPatchTokenizer } from "../src/data/emoji_fixture.ts";
import { encodeNpy, writeNpy } from "../src/io/npy.ts";
import { readNpz, writeNpz } from "../src/io/npz.ts";
import { zipSync } from "../src/deps/fflate.ts";
import { loadSharp } from "../src/deps/sharp.ts";
import { Rng } from "../src/util/rng.ts";
import { featureStats } from "../src/metrics/features.ts";
import { frechetFromStats } from "../src/metrics/frechet.ts";
import { frechetLowRank } from "../src/metrics/fid.ts";
import { npzArrayNames, readNpzArrays } from "../src/metrics/fid_sources.ts";

const ROOT = new URL("../", import.meta.url);
const cli = new URL("../main/fid.ts", import.meta.url).pathname;
const N = 12;

const run = (args: string[]) => denoRun([cli, ...args]);
/** The user-facing lines of a run (progress bars left out). */
const said = (r: { stdout: string; stderr: string }) =>
  (r.stdout + r.stderr).split("\n").filter((l) => !/[░█]/.test(l) && l.trim()).join("\n");

let shared: Promise<string> | undefined;
/** {@link setup}'s folder, made once for this file's tests and removed when the process ends. */
function fixture(): Promise<string> {
  if (!shared) {
    shared = setup();
    globalThis.addEventListener("unload", () => {
      shared!.then((dir) => Deno.removeSync(dir, { recursive: true })).catch(() => {});
    });
  }
  return shared;
}

/**
 * A temp folder with the tiny graph (`inc.json`, input 48x48), two token sets of 12 emoji (`a`,
 * `b`), the pictures of `a` as `a.npz` (arr_0, stored), `a-deflated.npz` and PNGs in `a-png/`.
 */
async function setup(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "fid-cli-" });
  const out = await new Deno.Command(PYTHON, {
    args: [
      "-m",
      "python.inception",
      "--random-weights",
      "--width",
      "0.0625",
      "--input-size",
      "48",
      "--out",
      dir,
      "--name",
      "inc",
    ],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  const val = await loadEmojiDataset("val");
  const cells = 24 * 24;
  for (const [name, first] of [["a", 0], ["b", 100]] as const) {
    await Deno.mkdir(`${dir}/${name}`);
    const tokens = val.tokens.slice(first * cells, (first + N) * cells);
    await Deno.writeFile(
      `${dir}/${name}/tokens.npy`,
      encodeNpy({ dtype: "uint16", shape: [N, 24, 24], data: tokens }, false),
    );
  }
  const tok = await loadPatchTokenizer();
  const pics = await tok.decode({
    n: N,
    height: 24,
    width: 24,
    tokens: val.tokens.slice(0, N * cells),
  });
  const arr0 = writeNpy({ dtype: "uint8", shape: [N, 48, 48, 3], data: pics.data });
  await Deno.writeFile(`${dir}/a.npz`, zipSync({ "arr_0.npy": [arr0, { level: 0 }] }));
  await Deno.writeFile(`${dir}/a-deflated.npz`, zipSync({ "arr_0.npy": [arr0, { level: 6 }] }));
  // The same pictures as NumPy writes them (savez: zip64 members; savez_compressed: deflated).
  const np = await new Deno.Command(PYTHON, {
    args: [
      "-c",
      "import numpy as np, sys; a = np.load(sys.argv[1])['arr_0']; " +
      "np.savez(sys.argv[2], arr_0=a, arr_1=np.arange(len(a))); np.savez_compressed(sys.argv[3], arr_0=a)",
      `${dir}/a.npz`,
      `${dir}/a-numpy.npz`,
      `${dir}/a-numpy-compressed.npz`,
    ],
    stderr: "piped",
  }).output();
  assert(np.success, new TextDecoder().decode(np.stderr));
  await Deno.mkdir(`${dir}/a-png`);
  const sharp = await loadSharp();
  for (let i = 0; i < N; i++) {
    const raw = pics.data.subarray(i * 48 * 48 * 3, (i + 1) * 48 * 48 * 3);
    await sharp(raw, { raw: { width: 48, height: 48, channels: 3 } }).png()
      .toFile(`${dir}/a-png/${String(i).padStart(2, "0")}.png`);
  }
  return dir;
}

Deno.test({
  name: "fid CLI: statistics, FID/sFID/IS/precision/recall from tokens, .npz and PNGs",
  ignore: !hasTorch,
  fn: async () => {
    const dir = await fixture();
    {
      const feats = ["--features", `${dir}/inc.json`];
      const codebook = ["--tokenizer", "fixtures/emoji/codebook.npy.gz"];
      // Reference statistics from a token set; the default --save-stats is a.stats.npz.
      let r = await run([...feats, "--stats-from", `${dir}/a`, ...codebook]);
      assertEquals(r.code, 0, r.stderr);
      assert(r.stdout.includes(`wrote ${dir}/a.stats.npz`), r.stdout);
      const stats = readNpz(await Deno.readFile(`${dir}/a.stats.npz`));
      assertEquals(Object.keys(stats).sort(), ["mu", "mu_s", "n", "sigma", "sigma_s"]);
      assertEquals(stats.mu.shape, [128]);
      assertEquals(stats.sigma_s.shape, [2023, 2023]);
      assertEquals(Number(stats.n.data[0]), N);

      // The set against its own statistics: 0 within 1e-6; the JSON has every number.
      r = await run([
        ...feats,
        "--samples",
        `${dir}/a`,
        ...codebook,
        "--ref",
        `${dir}/a.stats.npz`,
        "--out",
        `${dir}/self.json`,
      ]);
      assertEquals(r.code, 0, r.stderr);
      const self = JSON.parse(await Deno.readTextFile(`${dir}/self.json`));
      assert(Math.abs(self.fid) < 1e-6 && Math.abs(self.sfid) < 1e-6, JSON.stringify(self));
      assertEquals(self.format, "parlab-fid/1");
      assertEquals(self.samples, { path: `${dir}/a`, n: N, kind: "tokens" });
      assertEquals(self.inceptionScore.splits.length, 10);
      assert(self.inceptionScore.mean >= 1, JSON.stringify(self.inceptionScore));
      assertEquals(self.precision, null);
      assert(self.notes.some((n: string) => n.includes("no pictures (arr_0)")), self.notes);
      assertEquals(self.features.preprocess, "adm");

      // The same pictures as an .npz (stored, deflated) and as PNGs: the same features.
      const same = ["a.npz", "a-deflated.npz", "a-numpy.npz", "a-numpy-compressed.npz", "a-png"];
      for (const samples of same.map((name) => `${dir}/${name}`)) {
        r = await run([
          ...feats,
          "--samples",
          samples,
          "--ref",
          `${dir}/a.stats.npz`,
          "--out",
          `${dir}/r.json`,
        ]);
        assertEquals(r.code, 0, said(r));
        const res = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
        assert(res.fid < 1e-6 && res.sfid < 1e-6, `${samples}: ${res.fid} ${res.sfid}`);
        assertAlmostEquals(res.inceptionScore.mean, self.inceptionScore.mean, 1e-9);
      }

      // Another set, decoded through a model's manifest (tiny-par4: the emoji codebook).
      r = await run([
        ...feats,
        "--samples",
        `${dir}/b`,
        "--model",
        "fixtures/models/tiny-par4.json",
        "--ref",
        `${dir}/a.stats.npz`,
        "--out",
        `${dir}/b.json`,
      ]);
      assertEquals(r.code, 0, said(r));
      const b = JSON.parse(await Deno.readTextFile(`${dir}/b.json`));
      assert(b.fid > 0.01 && b.sfid > 0.01, JSON.stringify(b));

      // A reference with pictures: precision/recall (the set against itself: both 1); then
      // a reference of pictures only (deflated): statistics computed from arr_0.
      await Deno.writeFile(
        `${dir}/ref.npz`,
        writeNpz({ ...readNpz(await Deno.readFile(`${dir}/a.npz`)), ...stats }),
      );
      r = await run([
        ...feats,
        "--samples",
        `${dir}/a.npz`,
        "--ref",
        `${dir}/ref.npz`,
        "--out",
        `${dir}/pr.json`,
      ]);
      assertEquals(r.code, 0, said(r));
      const pr = JSON.parse(await Deno.readTextFile(`${dir}/pr.json`));
      assertEquals([pr.precision, pr.recall], [1, 1]);
      assertEquals(pr.reference.statistics, "file");
      r = await run([
        ...feats,
        "--samples",
        `${dir}/b`,
        ...codebook,
        "--ref",
        `${dir}/ref.npz`,
        "--out",
        `${dir}/pr-b.json`,
      ]);
      assertEquals(r.code, 0, said(r));
      const prb = JSON.parse(await Deno.readTextFile(`${dir}/pr-b.json`));
      assertAlmostEquals(prb.fid, b.fid, 1e-9);
      assert(prb.precision >= 0 && prb.precision <= 1 && prb.recall >= 0 && prb.recall <= 1);
      r = await run([
        ...feats,
        "--samples",
        `${dir}/b`,
        ...codebook,
        "--ref",
        `${dir}/a-deflated.npz`,
        "--out",
        `${dir}/arr0.json`,
        "--skip-pr",
      ]);
      assertEquals(r.code, 0, said(r));
      const arr0 = JSON.parse(await Deno.readTextFile(`${dir}/arr0.json`));
      assertEquals(arr0.reference.statistics, "computed from arr_0");
      assertAlmostEquals(arr0.fid, b.fid, 1e-9);
      assertEquals(arr0.precision, null);

      // A PNG of another size is resized to the model's 48x48 first, with a note.
      const sharp = await loadSharp();
      await Deno.mkdir(`${dir}/mixed-png`);
      for (const e of Deno.readDirSync(`${dir}/a-png`)) {
        await Deno.copyFile(`${dir}/a-png/${e.name}`, `${dir}/mixed-png/${e.name}`);
      }
      await sharp(`${dir}/a-png/00.png`).resize(60, 52).png().toFile(`${dir}/mixed-png/99.png`);
      r = await run([...feats, "--samples", `${dir}/mixed-png`, "--ref", `${dir}/a.stats.npz`]);
      assertEquals(r.code, 0, said(r));
      assert(r.stdout.includes("1 of 13 pictures") && r.stdout.includes("sharp resized"), r.stdout);
    }
  },
});

Deno.test({
  name: "fid CLI: bad inputs are one line naming the flag and the fix",
  ignore: !hasTorch,
  fn: async () => {
    const dir = await fixture();
    {
      const feats = ["--features", `${dir}/inc.json`];
      await Deno.writeFile(
        `${dir}/ok128.npz`,
        writeNpz({
          mu: { dtype: "float64", shape: [128], data: new Float64Array(128) },
          sigma: {
            dtype: "float64",
            shape: [128, 128],
            data: Float64Array.from({ length: 128 * 128 }, (_, i) => (i % 129 === 0 ? 1 : 0)),
          },
        }),
      );
      await Deno.writeFile(
        `${dir}/no-stats.npz`,
        writeNpz({ labels: { dtype: "int32", shape: [2], data: Int32Array.of(1, 2) } }),
      );
      await Deno.writeFile(
        `${dir}/small.npz`,
        writeNpz({
          mu: { dtype: "float64", shape: [3], data: new Float64Array(3) },
          sigma: { dtype: "float64", shape: [3, 3], data: new Float64Array(9) },
        }),
      );
      await Deno.mkdir(`${dir}/sharded/shard-0-of-2`, { recursive: true });
      const cases: [string[], string][] = [
        [[...feats, "--samples", `${dir}/a.npz`], "--ref: is required with --samples"],
        [[...feats], "--samples: give --samples DIR"],
        [
          [...feats, "--samples", `${dir}/a.npz`, "--stats-from", `${dir}/a`],
          "--stats-from: goes without --samples",
        ],
        [
          [...feats, "--stats-from", `${dir}/a.npz`, "--out", "x.json"],
          "--out: only scores --samples",
        ],
        [[...feats, "--samples", `${dir}/a`, "--ref", `${dir}/ok128.npz`], "--model: "],
        [
          [...feats, "--samples", `${dir}/a.npz`, "--ref", `${dir}/no-stats.npz`],
          "deno task fid --stats-from <pictures>",
        ],
        [
          [...feats, "--samples", `${dir}/a.npz`, "--ref", `${dir}/small.npz`],
          "--ref: its statistics are 3-d",
        ],
        [[...feats, "--samples", `${dir}/a.npz`, "--ref", `${dir}/missing.npz`], "--ref: "],
        [[...feats, "--samples", `${dir}/a.npz`, "--ref", `${dir}/inc.json`], "not an .npz file"],
        [[
          ...feats,
          "--samples",
          `${dir}/a.npz`,
          "--ref",
          `${dir}/ok128.npz`,
          "--model",
          "fixtures/models/tiny-par4.json",
        ], "--model: "],
        [
          [...feats, "--samples", `${dir}/sharded`, "--ref", `${dir}/ok128.npz`],
          "deno task merge --out",
        ],
        [[...feats, "--samples", `${dir}/nowhere`, "--ref", `${dir}/ok128.npz`], "--samples: "],
        [
          [...feats, "--stats-from", `${dir}/a`, "--tokenizer", "v.tokenizer.json"],
          "--tokenizer: ",
        ],
        [[...feats, "--stats-from", `${dir}/a.npz`, "--batch", "0"], "--batch: "],
        [
          ["--features", `${dir}/none.json`, "--stats-from", `${dir}/a.npz`],
          "-m python.inception --weights",
        ],
        [
          ["--stats-from", `${dir}/a.npz`, "--features", "fixtures/models/tiny-par4.json"],
          "--features: ",
        ],
      ];
      for (const [args, want] of cases) {
        const r = await run(args);
        const text = said(r);
        assertEquals(r.code, 1, `${args.join(" ")}: ${text}`);
        assert(text.includes(want), `${args.join(" ")}: expected "${want}" in: ${text}`);
        const lines = r.stderr.trim().split("\n");
        assertEquals(lines.length, 1, `${args.join(" ")}: not one line: ${r.stderr}`);
        assert(lines[0].startsWith("fid: --") || lines[0].startsWith("fid: "), lines[0]);
        assert(!r.stderr.includes("    at "), `stack trace: ${r.stderr}`);
      }
    }
  },
});

Deno.test("fid CLI: any feature model (the emoji CNN: no spatial output, so no sFID)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fid-cli-cnn-" });
  try {
    const val = await loadEmojiDataset("val");
    await Deno.mkdir(`${dir}/s`);
    await Deno.writeFile(
      `${dir}/s/tokens.npy`,
      encodeNpy({ dtype: "uint16", shape: [N, 24, 24], data: val.tokens.slice(0, N * 576) }, false),
    );
    const common = [
      "--features",
      "fixtures/classifier/emoji-cnn.json",
      "--model",
      "fixtures/models/tiny-par4.json",
    ];
    let r = await run([...common, "--stats-from", `${dir}/s`, "--save-stats", `${dir}/ref.npz`]);
    assertEquals(r.code, 0, said(r));
    assertEquals(await npzArrayNames(`${dir}/ref.npz`), ["mu", "sigma", "n"]);
    r = await run([
      ...common,
      "--samples",
      `${dir}/s`,
      "--ref",
      `${dir}/ref.npz`,
      "--out",
      `${dir}/r.json`,
    ]);
    assertEquals(r.code, 0, said(r));
    const res = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
    assert(res.fid < 1e-6, String(res.fid));
    assertEquals(res.sfid, null);
    assert(res.notes.some((n: string) => n.includes("sFID skipped")), res.notes);
    assertEquals(res.inceptionScore.splits.length, 10);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fid: the exact low-rank Fréchet path equals the full one; npz members by name", async () => {
  const rng = new Rng(5);
  const d = 20;
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const refRows = Float64Array.from({ length: 60 * d }, () => gauss());
  const ref = featureStats({ n: 60, d, data: refRows });
  for (const n of [2, 5, 12]) {
    const rows = { n, d, data: Float64Array.from({ length: n * d }, () => 0.5 + 1.5 * gauss()) };
    const low = frechetLowRank(ref, rows);
    const full = frechetFromStats(featureStats(rows), ref);
    // The full path takes square roots of the rounding noise in S's null space (n - 1 < d), so
    // it carries errors near 1e-7 that the low-rank path does not.
    assertAlmostEquals(low.distance, full.distance, 1e-6 * Math.max(1, full.distance));
    assertAlmostEquals(low.meanTerm, full.meanTerm, 1e-12 * Math.max(1, full.meanTerm));
  }
  // Against itself: 0.
  const rows = { n: 8, d, data: Float64Array.from({ length: 8 * d }, () => gauss()) };
  assert(frechetLowRank(featureStats(rows), rows).distance < 1e-9);

  const dir = await Deno.makeTempDir({ prefix: "fid-npz-" });
  try {
    const big = new Uint8Array(1 << 20).fill(7);
    await Deno.writeFile(
      `${dir}/x.npz`,
      zipSync({
        "arr_0.npy": [writeNpy({ dtype: "uint8", shape: [big.length], data: big }), { level: 0 }],
        "mu.npy": [writeNpy({ dtype: "float64", shape: [2], data: Float64Array.of(1, 2) }), {
          level: 6,
        }],
      }),
    );
    assertEquals(await npzArrayNames(`${dir}/x.npz`), ["arr_0", "mu"]);
    const got = await readNpzArrays(`${dir}/x.npz`, ["mu", "sigma"]);
    assertEquals(Object.keys(got), ["mu"]);
    assertEquals([...got.mu.data], [1, 2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
