/**
 * `deno task metrics` end to end on a small token file, and its one-line user errors.
 */
import { assert, assertEquals } from "./assert.ts";
import { denoRun } from "./deno_run.ts";
import { loadEmojiDataset } from "../src/data/mod.ts";
import { saveNpyFile } from "../src/io/mod.ts";

const cli = new URL("../main/metrics.ts", import.meta.url).pathname;

const run = (args: string[]) => denoRun([cli, ...args]);

Deno.test("metrics CLI scores a token file and writes JSON", async () => {
  const dir = await Deno.makeTempDir({ prefix: "metrics-cli-" });
  try {
    const val = await loadEmojiDataset("val");
    const n = 24;
    await saveNpyFile(`${dir}/tokens.npy`, {
      dtype: "uint16",
      shape: [n, 24, 24],
      data: val.tokens.slice(0, n * 576),
    });
    await saveNpyFile(`${dir}/labels.npy`, {
      dtype: "uint8",
      shape: [n],
      data: val.labels.slice(0, n),
    });
    const r = await run(["--samples", dir, "--kid-subsets", "3", "--out", `${dir}/m.json`]);
    assertEquals(r.code, 0, r.stderr);
    assert(r.stdout.includes("Fréchet distance"), r.stdout);
    const m = JSON.parse(await Deno.readTextFile(`${dir}/m.json`));
    assertEquals(m.n, n);
    assertEquals(m.real, "val");
    assertEquals(m.kid.subsets, 3);
    assert(m.frechet > 0 && m.classAccuracy > 0.3, JSON.stringify(m));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("metrics CLI: user errors are one line naming the flag", async () => {
  const cases: [string[], string][] = [
    [["--coarse", "1"], "--coarse"],
    [["--tokens", "x.npy"], "--tokens and --labels go together"],
    [["--samples", "a", "--count", "5"], "--count"],
    [["--samples", "/nonexistent-dir"], "/nonexistent-dir/tokens.npy"],
    [["--bogus"], "bogus"],
  ];
  for (const [args, text] of cases) {
    const r = await run(args);
    assertEquals(r.code, 1, `${args.join(" ")}: ${r.stdout}`);
    const lines = r.stderr.trim().split("\n");
    assertEquals(lines.length, 1, r.stderr);
    assert(lines[0].startsWith("metrics: ") && lines[0].includes(text), r.stderr);
  }
});
