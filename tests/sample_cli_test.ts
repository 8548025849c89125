/**
 * `deno task sample` end to end: the files it writes, and an interrupted run resumed to the same
 * tokens an uninterrupted run gives.
 */
import { assert, assertEquals } from "./assert.ts";
import { denoRun } from "./deno_run.ts";
import { loadNpyFile } from "../src/io/mod.ts";
import { ResumeStore } from "../src/sampler/mod.ts";

const cli = new URL("../main/sample.ts", import.meta.url).pathname;
const model = new URL("../fixtures/models/tiny-raster.json", import.meta.url).pathname;
// 12 raster images one at a time: long enough (576 steps each) to stop the run part-way.
const args = ["--model", model, "--classes", "0,1", "--count", "6", "--batch", "1", "--seed", "5"];

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("sample CLI: an interrupted run resumes to the tokens of an uninterrupted one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sample-cli-" });
  try {
    const whole = await denoRun([cli, ...args, "--out", `${dir}/whole`]);
    assertEquals(whole.code, 0, whole.stderr);
    for (const f of ["tokens.npy", "labels.npy", "samples.png", "run.json"]) {
      assert(await exists(`${dir}/whole/${f}`), `${f} written`);
    }
    assert(!(await exists(`${dir}/whole/parts`)), "parts removed after a complete run");
    const want = await loadNpyFile(`${dir}/whole/tokens.npy`);
    assertEquals(want.shape, [12, 24, 24]);

    // Stop a second run as soon as its first batch is saved.
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-q", "-A", cli, ...args, "--out", `${dir}/cut`],
      stdout: "null",
      stderr: "null",
    }).spawn();
    let exited = false;
    const status = child.status.then((s) => (exited = true, s));
    const deadline = Date.now() + 120_000;
    // The batch record is written after the batch: once it exists, batch 0 is resumable.
    while (!(await exists(`${dir}/cut/parts/0.json`))) {
      if (exited || Date.now() > deadline) {
        throw new Error(`the run ${exited ? "ended" : "took 2 minutes"} before saving a batch`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    if (!exited) child.kill("SIGKILL");
    await status;
    assert(!(await exists(`${dir}/cut/tokens.npy`)), "the run was stopped before it finished");

    // Other settings into the same folder are refused, naming what differs.
    const other = await denoRun([cli, ...args, "--seed", "6", "--out", `${dir}/cut`]);
    assertEquals(other.code, 1);
    assert(other.stderr.includes("--out") && other.stderr.includes("seed differ"), other.stderr);
    assertEquals(other.stderr.trim().split("\n").length, 1, other.stderr);

    const resumed = await denoRun([cli, ...args, "--out", `${dir}/cut`]);
    assertEquals(resumed.code, 0, resumed.stderr);
    const line = resumed.stdout.split("\n").find((l) => l.startsWith("resuming: "));
    assert(line && / of 12 images were sampled before/.test(line), resumed.stdout);
    const got = await loadNpyFile(`${dir}/cut/tokens.npy`);
    assertEquals(got.data, want.data, "resumed tokens equal the uninterrupted run's");
    const run = JSON.parse(await Deno.readTextFile(`${dir}/cut/run.json`));
    assert(run.resumedImages >= 1 && run.resumedImages < 12, `resumed ${run.resumedImages}`);
    assert(!(await exists(`${dir}/cut/parts`)), "parts removed once complete");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sample CLI: --fresh discards saved batches of another run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sample-cli-" });
  try {
    const small = ["--model", model, "--classes", "0", "--count", "1", "--out", dir];
    // Batches of another (parlab) run with other settings.
    const store = new ResumeStore(`${dir}/parts`, 576);
    await store.load({ model: "other" }, 1, { onMismatch: "refuse" });
    await store.save(0, new Int32Array(576));
    const refused = await denoRun([cli, ...small]);
    assertEquals(refused.code, 1);
    assert(refused.stderr.includes("--fresh"), refused.stderr);
    const fresh = await denoRun([cli, ...small, "--fresh"]);
    assertEquals(fresh.code, 0, fresh.stderr);
    assert(await exists(`${dir}/tokens.npy`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sample CLI: a parts/ folder parlab did not make is never deleted, --fresh or not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sample-cli-" });
  try {
    const small = ["--model", model, "--classes", "0", "--count", "1", "--out", dir];
    await Deno.mkdir(`${dir}/parts`, { recursive: true });
    await Deno.writeTextFile(`${dir}/parts/mine.txt`, "a user's file");
    for (const extra of [[], ["--fresh"]]) {
      const r = await denoRun([cli, ...small, ...extra]);
      assertEquals(r.code, 1, r.stderr);
      assert(r.stderr.includes("was not made by parlab"), r.stderr);
      assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    assertEquals(await Deno.readTextFile(`${dir}/parts/mine.txt`), "a user's file");
    assert(!(await exists(`${dir}/tokens.npy`)), "nothing written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sample CLI: user errors are one line naming the flag, before any sampling", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sample-cli-" });
  try {
    for (
      const [flags, flag] of [
        [["--model", `${dir}/missing.json`], "--model"],
        [["--model", model, "--schedule", "bogus"], "--schedule"],
        [["--model", model, "--schedule", `${dir}/none.json`], "--schedule"],
        [["--model", model, "--classes", "99"], "--classes"],
        [["--model", model, "--count", "0"], "--count"],
        [["--model", model, "--top-p", "2"], "--top-p"],
        [["--model", model, "--backend", "tpu"], "--backend"],
        [["--classes", "0"], "--model"],
      ] as const
    ) {
      const r = await denoRun([cli, ...flags, "--out", `${dir}/out`]);
      assertEquals(r.code, 1, `${flags.join(" ")}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assertEquals(lines.length, 1, r.stderr);
      assert(lines[0].startsWith(`sample: ${flag}`), `${flags.join(" ")}: ${r.stderr}`);
      assert(lines[0].includes("Fix:") || lines[0].includes("Usage:"), r.stderr);
    }
    assert(!(await exists(`${dir}/out/tokens.npy`)), "nothing sampled");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
