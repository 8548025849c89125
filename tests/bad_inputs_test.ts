// The rows edit parsed JSON of any shape (schedules, manifests) to break one field each.
// deno-lint-ignore-file no-explicit-any
/**
 * A corpus of broken inputs, one table row each: schedules, sampling options, teacher forcing,
 * model manifests, token and label files, flags of the programs, output folders. Every row
 * asserts the error class (a user error, never a stack trace) and words of its message, and that
 * nothing outside the run's own files changed: each row runs in a fresh sandbox holding a user's
 * file, which must come out byte for byte as it went in.
 */
import { assert, assertEquals } from "./assert.ts";
import { denoRun } from "./deno_run.ts";
import { encodeNpy } from "../src/io/npy.ts";
import { makeGrid } from "../src/media/grid.ts";
import { loadOnnxModel } from "../src/model/onnx_node.ts";
import type { ARModel } from "../src/model/ar_model.ts";
import { loadManifest } from "../src/model/onnx_node.ts";
import { sample } from "../src/sampler/sampler.ts";
import { teacherForce } from "../src/sampler/teacher_forcing.ts";
import { ResumeStore } from "../src/sampler/resume_store.ts";
import { par } from "../src/schedule/builders.ts";
import { type Schedule, scheduleFromJSON, scheduleToJSON } from "../src/schedule/schedule.ts";
import { scheduleByName } from "../src/schedule/registry.ts";
import { loadLabelFile, loadTokenFile } from "../src/data/token_files.ts";
import { isUserError } from "../src/util/errors.ts";
import { lockFolder } from "../src/util/lock.ts";

const root = new URL("../", import.meta.url);
const MODEL = new URL("fixtures/models/tiny-par4.json", root).pathname;
const SAMPLE = new URL("main/sample.ts", root).pathname;
const grid = makeGrid(24, 24);
const par4 = par(grid, { m: 2 });
const par4Json = JSON.parse(scheduleToJSON(par4));

/** What a row's action reports: a thrown error, or a finished program. */
type Outcome = { error: unknown } | { code: number; stdout: string; stderr: string };

interface Row {
  group: string;
  name: string;
  /** The action, in a fresh sandbox folder. */
  act: (sandbox: string) => Promise<Outcome>;
  /** Expected error class name (library rows), or "cli" for a program's one-line failure. */
  expect: string;
  /** Words the message must contain. */
  includes: string;
}

let model: ARModel;
const throws = async (fn: () => unknown): Promise<Outcome> => {
  try {
    await fn();
  } catch (error) {
    return { error };
  }
  return { error: null };
};
const cli = async (args: string[], sandbox: string): Promise<Outcome> =>
  await denoRun([SAMPLE, "--model", MODEL, ...args], sandbox);
/** A schedule object with one field changed (hand-built, not through the builders). */
const edited = (edit: (s: Schedule) => void): Schedule => {
  const s: Schedule = JSON.parse(JSON.stringify(par4));
  edit(s);
  return s;
};
const scheduleJson = (edit: (j: Record<string, unknown>) => void) => {
  const j = JSON.parse(JSON.stringify(par4Json));
  edit(j);
  return JSON.stringify(j);
};
/** Write a model manifest (tiny-par4's, edited) and its graph into the sandbox. */
async function manifestIn(
  sandbox: string,
  edit: (m: Record<string, unknown>) => void,
): Promise<string> {
  const m = JSON.parse(await Deno.readTextFile(MODEL));
  await Deno.copyFile(new URL("fixtures/models/tiny-par4.onnx", root), `${sandbox}/m.onnx`);
  m.onnx = "m.onnx";
  if (m.tokenizer?.codebook) {
    m.tokenizer.codebook = new URL("fixtures/emoji/codebook.npy.gz", root).pathname;
  }
  edit(m);
  await Deno.writeTextFile(`${sandbox}/m.json`, JSON.stringify(m));
  return `${sandbox}/m.json`;
}
async function npyIn(sandbox: string, name: string, bytes: Uint8Array): Promise<string> {
  await Deno.writeFile(`${sandbox}/${name}`, bytes);
  return `${sandbox}/${name}`;
}
const u16 = (shape: number[], fill = 0) =>
  encodeNpy({
    dtype: "uint16",
    shape,
    data: new Uint16Array(shape.reduce((a, b) => a * b, 1)).fill(fill),
  }, false);

const opts = { schedule: par4, classes: [0] };
const tokens576 = new Int32Array(576);

const ROWS: Row[] = [
  // ---- schedules as JSON ----
  ...([
    ["a cell listed twice", (j: any) => (j.steps[1].cells = [0]), "repeats"],
    ["a cell outside the grid", (j: any) => (j.steps[1].cells = [576]), "outside"],
    ["a negative cell", (j: any) => (j.steps[1].cells = [-1]), "steps"],
    ["a missing cell", (j: any) => j.steps.pop(), "never sampled"],
    ["an empty step", (j: any) => (j.steps[2].cells = []), "steps.2.cells"],
    ["wrong transitionSlots", (j: any) => (j.transitionSlots = 5), "transitionSlots"],
    ["an unknown attention", (j: any) => (j.steps[0].attention = "sparse"), "attention"],
    ["a grid of 100000x100000", (j: any) => (j.grid = { height: 100000, width: 100000 }), "cells"],
    ["a zero-height grid", (j: any) => (j.grid.height = 0), "height"],
    ["a fractional width", (j: any) => (j.grid.width = 2.5), "width"],
    ["no steps at all", (j: any) => delete j.steps, "steps"],
    ["steps of the wrong type", (j: any) => (j.steps = "raster"), "steps"],
  ] as [string, (j: Record<string, unknown>) => void, string][]).map(([name, edit, includes]) => ({
    group: "schedule JSON",
    name,
    act: () => throws(() => scheduleFromJSON(scheduleJson(edit))),
    expect: "ConfigError",
    includes,
  })),
  {
    group: "schedule JSON",
    name: "not JSON",
    act: () => throws(() => scheduleFromJSON("{steps: [")),
    expect: "ConfigError",
    includes: "not valid JSON",
  },
  {
    group: "schedule JSON",
    name: "an unknown schedule name",
    act: () => throws(() => scheduleByName(grid, "zigzag")),
    expect: "ConfigError",
    includes: "unknown schedule name",
  },
  {
    group: "schedule JSON",
    name: "par with a non-square count",
    act: () => throws(() => scheduleByName(grid, "par5")),
    expect: "ConfigError",
    includes: "square number",
  },
  {
    group: "schedule JSON",
    name: "makeGrid of 100000x100000",
    act: () => throws(() => makeGrid(100000, 100000)),
    expect: "ConfigError",
    includes: "over parlab's limit",
  },
  // ---- hand-built schedules handed to the sampler and teacher forcing ----
  ...([
    ["a repeated cell", (s: Schedule) => (s.steps[1].cells = [0]), "repeats"],
    ["a missing cell", (s: Schedule) => s.steps.pop(), "never sampled"],
    ["an out-of-range cell", (s: Schedule) => (s.steps[3].cells = [9999]), "outside"],
    ["wrong transitionSlots", (s: Schedule) => (s.transitionSlots = 0), "transitionSlots"],
  ] as [string, (s: Schedule) => void, string][]).flatMap(([name, edit, includes]) => [
    {
      group: "hand-built schedule",
      name: `sample(): ${name}`,
      act: () => throws(() => sample(model, { ...opts, schedule: edited(edit) })),
      expect: "ConfigError",
      includes,
    },
    {
      group: "hand-built schedule",
      name: `teacherForce(): ${name}`,
      act: () => throws(() => teacherForce(model, edited(edit), tokens576, [0])),
      expect: "ConfigError",
      includes,
    },
  ]),
  {
    group: "hand-built schedule",
    name: "sample(): an attention that is neither full nor causal",
    act: () =>
      throws(() =>
        sample(model, {
          ...opts,
          schedule: edited((s) => ((s.steps[4] as { attention: string }).attention = "diagonal")),
        })
      ),
    expect: "SampleOptionsError",
    includes: "attention",
  },
  // ---- sampling options ----
  ...([
    ["cfg scale 0.5 (below 1)", { cfgScale: 0.5 }, "guidance below 1"],
    ["cfg scale 1e308", { cfgScale: 1e308 }, "at most 1000"],
    ["cfg scale NaN", { cfgScale: NaN }, "cfgScale"],
    ["temperature 1e-320", { temperature: 1e-320 }, "at least"],
    ["temperature 0", { temperature: 0 }, "temperature"],
    ["temperature 1e9", { temperature: 1e9 }, "at most"],
    ["top-p 0", { topP: 0 }, "topP"],
    ["top-p 2", { topP: 2 }, "topP"],
    ["top-k -1", { topK: -1 }, "topK"],
    ["top-k 2.5", { topK: 2.5 }, "topK"],
    ["seed 1.5", { seed: 1.5 }, "seed"],
    ["cfg interval -3", { cfgInterval: -3 }, "cfgInterval"],
    ["no classes", { classes: [] }, "at least one class"],
    ["class -1", { classes: [-1] }, "not a class index"],
    ["class 99 of 9", { classes: [99] }, "out of range"],
    ["class 0.5", { classes: [0.5] }, "not a class index"],
    ["uniforms of the wrong length", { uniforms: new Float64Array(3) }, "needs images x cells"],
    ["a uniform of 1", { uniforms: new Float64Array(576).fill(1) }, "outside [0, 1)"],
    ["a NaN uniform", { uniforms: new Float64Array(576).fill(NaN) }, "outside [0, 1)"],
    ["a negative uniform", { uniforms: new Float64Array(576).fill(-0.1) }, "outside [0, 1)"],
  ] as [string, Record<string, unknown>, string][]).map(([name, extra, includes]) => ({
    group: "sampling options",
    name,
    act: () => throws(() => sample(model, { ...opts, ...extra })),
    expect: "SampleOptionsError",
    includes,
  })),
  // ---- teacher forcing ----
  ...([
    ["a token id = V", () => new Int32Array(576).fill(1024), [0], "token id"],
    ["a negative token id", () => new Int32Array(576).fill(-1), [0], "token id"],
    ["a class = C", () => tokens576, [9], "class index"],
    ["a fractional class", () => tokens576, [1.5], "class index"],
  ] as [string, () => Int32Array, number[], string][]).map(([name, toks, labels, includes]) => ({
    group: "teacher forcing",
    name,
    act: () => throws(() => teacherForce(model, par4, toks(), labels)),
    expect: "SampleOptionsError",
    includes,
  })),
  {
    group: "teacher forcing",
    name: "tokens of the wrong length",
    act: () => throws(() => teacherForce(model, par4, new Int32Array(5), [0])),
    expect: "RangeError",
    includes: "grids x cells",
  },
  // ---- model manifests ----
  ...([
    ["a missing vocabSize", (m: any) => delete m.vocabSize, "vocabSize"],
    ["a negative layer count", (m: any) => (m.layers = -2), "layers"],
    ["kvHeads not dividing heads", (m: any) => (m.kvHeads = 3), "kvHeads"],
    ["an unknown format", (m: any) => (m.format = "gguf"), "format"],
    ["a grid of 100000x100000", (m: any) => (m.grid = { height: 1e5, width: 1e5 }), "grid"],
    ["a wrong sha256", (m: any) => (m.sha256 = "0".repeat(64)), "sha256"],
    ["a graph that is not there", (m: any) => (m.onnx = "absent.onnx"), "absent.onnx"],
  ] as [string, (m: Record<string, unknown>) => void, string][]).map(([name, edit, includes]) => ({
    group: "model manifest",
    name,
    act: async (sandbox: string) => {
      const path = await manifestIn(sandbox, edit);
      return await throws(async () => await (await loadOnnxModel(path)).dispose());
    },
    expect: "ManifestError",
    includes,
  })),
  {
    group: "model manifest",
    name: "not JSON",
    act: async (sandbox) => {
      await Deno.writeTextFile(`${sandbox}/m.json`, "{ not json");
      return await throws(() => loadManifest(`${sandbox}/m.json`));
    },
    expect: "ManifestError",
    includes: "not valid JSON",
  },
  {
    group: "model manifest",
    name: "a manifest that is not there",
    act: (sandbox) => throws(() => loadManifest(`${sandbox}/none.json`)),
    expect: "ManifestError",
    includes: "none.json",
  },
  {
    group: "model manifest",
    name: "a graph that is not ONNX",
    act: async (sandbox) => {
      const path = await manifestIn(sandbox, () => {});
      await Deno.writeTextFile(`${sandbox}/m.onnx`, "not a graph");
      return await throws(async () =>
        await (await loadOnnxModel(path, { skipHashCheck: true })).dispose()
      );
    },
    expect: "ManifestError",
    includes: "onnxruntime cannot load it",
  },
  // ---- token and label files ----
  ...([
    ["bytes that are not .npy", new TextEncoder().encode("hello"), "npy"],
    [
      "int32 tokens",
      encodeNpy({ dtype: "int32", shape: [1, 2, 2], data: new Int32Array(4) }, false),
      "dtype",
    ],
    ["a 2-D token array", u16([4, 4]), "dimensions"],
    ["a 5-D token array", u16([1, 1, 1, 2, 2]), "dimensions"],
    ["an id = K", u16([1, 24, 24], 1024), "not below K"],
    ["a grid of the wrong height", u16([1, 12, 24]), "height"],
    ["clips of the wrong frame count", u16([1, 3, 24, 24]), "frames"],
  ] as [string, Uint8Array, string][]).map(([name, bytes, includes]) => ({
    group: "token files",
    name,
    act: async (sandbox: string) => {
      const path = await npyIn(sandbox, "tokens.npy", bytes);
      return await throws(() =>
        loadTokenFile(path, { vocabSize: 1024, height: 24, width: 24, frames: 1 })
      );
    },
    expect: "ManifestError",
    includes,
  })),
  ...([
    [
      "float labels",
      encodeNpy({ dtype: "float32", shape: [2], data: new Float32Array(2) }, false),
      "dtype",
    ],
    [
      "labels of the wrong count",
      encodeNpy({ dtype: "uint8", shape: [3], data: new Uint8Array(3) }, false),
      "shape",
    ],
    [
      "a label = C",
      encodeNpy({ dtype: "uint8", shape: [2], data: new Uint8Array([0, 9]) }, false),
      "not below 9",
    ],
  ] as [string, Uint8Array, string][]).map(([name, bytes, includes]) => ({
    group: "label files",
    name,
    act: async (sandbox: string) => {
      const path = await npyIn(sandbox, "labels.npy", bytes);
      return await throws(() => loadLabelFile(path, { n: 2, numClasses: 9 }));
    },
    expect: "ManifestError",
    includes,
  })),
  // ---- flags of deno task sample ----
  ...([
    ["--out empty (an unset variable)", ["--out", ""], "--out"],
    ["--out /", ["--out", "/"], "file system root"],
    ["--cfg -1", ["--cfg", "-1"], "--cfg"],
    ["--cfg abc", ["--cfg", "abc"], "not a number"],
    ["--cfg 0x2", ["--cfg", "0x2"], "not a number"],
    ["--classes ''", ["--classes", ""], "--classes"],
    ["--classes 0,,1", ["--classes", "0,,1"], "empty item"],
    ["--classes 0x1", ["--classes", "0x1"], "neither a class index"],
    ["--classes 99", ["--classes", "99"], "--classes"],
    ["--count 10000000", ["--count", "10000000"], "--count"],
    ["--count 0", ["--count", "0"], "--count"],
    ["--seed 1.5", ["--seed", "1.5"], "--seed"],
    ["--top-p 2", ["--top-p", "2"], "--top-p"],
    ["--temperature 1e-320", ["--temperature", "1e-320"], "temperature"],
    ["--backend tpu", ["--backend", "tpu"], "--backend"],
    ["--draw gpu", ["--draw", "gpu"], "--draw"],
    ["--draw device without a head", ["--draw", "device"], "has no sampling head"],
    ["--schedule bogus", ["--schedule", "bogus"], "--schedule"],
    ["an unknown flag", ["--colour", "red"], "colour"],
  ] as [string, string[], string][]).map(([name, args, includes]) => ({
    group: "sample flags",
    name,
    act: (sandbox: string) =>
      cli(args.includes("--out") ? args : [...args, "--out", `${sandbox}/run`], sandbox),
    expect: "cli",
    includes,
  })),
  {
    group: "sample flags",
    name: "--out an existing file",
    act: async (sandbox) => {
      await Deno.writeTextFile(`${sandbox}/run`, "a file");
      const r = await cli(["--classes", "0", "--out", `${sandbox}/run`], sandbox);
      assertEquals(await Deno.readTextFile(`${sandbox}/run`), "a file");
      return r;
    },
    expect: "cli",
    includes: "existing file",
  },
  {
    group: "sample flags",
    name: "a model that is not there",
    act: (sandbox) => denoRun([SAMPLE, "--model", `${sandbox}/none.json`], sandbox),
    expect: "cli",
    includes: "--model",
  },
  // ---- output folders ----
  {
    group: "output folders",
    name: "a folder locked by a live run",
    act: async (sandbox) => {
      const release = await lockFolder(`${sandbox}/run`);
      try {
        return await cli(["--classes", "0", "--out", `${sandbox}/run`], sandbox);
      } finally {
        await release();
      }
    },
    expect: "cli",
    includes: "being written by another run",
  },
  {
    group: "output folders",
    name: "a parts/ folder parlab did not make",
    act: async (sandbox) => {
      await Deno.mkdir(`${sandbox}/run/parts`, { recursive: true });
      await Deno.writeTextFile(`${sandbox}/run/parts/notes.txt`, "mine");
      const r = await cli(["--classes", "0", "--out", `${sandbox}/run`, "--fresh"], sandbox);
      assertEquals(await Deno.readTextFile(`${sandbox}/run/parts/notes.txt`), "mine");
      return r;
    },
    expect: "cli",
    includes: "not made by parlab",
  },
  {
    group: "output folders",
    name: "a resume store over a user's key.json",
    act: async (sandbox) => {
      await Deno.mkdir(`${sandbox}/parts`);
      await Deno.writeTextFile(`${sandbox}/parts/key.json`, '{"mine": true}');
      const store = new ResumeStore(`${sandbox}/parts`, 576);
      const out = await throws(() => store.load({ a: 1 }, 1, { onMismatch: "discard" }));
      assertEquals(await Deno.readTextFile(`${sandbox}/parts/key.json`), '{"mine": true}');
      return out;
    },
    expect: "UsageError",
    includes: "not a parlab resume key",
  },
];

/** Every file under `dir` with its bytes' length and content, for before/after comparison. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else out.set(p, new TextDecoder().decode(await Deno.readFile(p)));
    }
  };
  await walk(dir);
  return out;
}

Deno.test(`bad inputs: ${ROWS.length} cases, each one message naming the problem`, async (t) => {
  assert(ROWS.length >= 80, `the corpus has ${ROWS.length} rows`);
  model = await loadOnnxModel(MODEL);
  const fixturesBefore = await snapshot(new URL("fixtures/models", root).pathname);
  try {
    for (const row of ROWS) {
      await t.step(`${row.group}: ${row.name}`, async () => {
        const sandbox = await Deno.makeTempDir({ prefix: "parlab-bad-" });
        try {
          await Deno.writeTextFile(`${sandbox}/user-notes.txt`, "the user's own file");
          const outcome = await row.act(sandbox);
          if ("error" in outcome) {
            const err = outcome.error as Error | null;
            assert(err, "no error was thrown");
            assertEquals(err.name, row.expect, err.stack);
            if (row.expect !== "RangeError" && row.expect !== "Error") {
              assert(isUserError(err), `${err.name} is not a user error`);
            }
            assert(err.message.includes(row.includes), `"${row.includes}" not in: ${err.message}`);
            assert(!err.message.includes("\n"), `more than one line: ${err.message}`);
          } else {
            assertEquals(outcome.code, 1, outcome.stderr);
            const lines = outcome.stderr.trim().split("\n");
            assertEquals(lines.length, 1, `one line of stderr: ${outcome.stderr}`);
            assert(lines[0].startsWith("sample: "), outcome.stderr);
            assert(lines[0].includes(row.includes), `"${row.includes}" not in: ${lines[0]}`);
            assert(!/\bat (file|ext):/.test(outcome.stderr), "a stack trace");
          }
          assertEquals(
            await Deno.readTextFile(`${sandbox}/user-notes.txt`),
            "the user's own file",
          );
        } finally {
          await Deno.remove(sandbox, { recursive: true });
        }
      });
    }
  } finally {
    await model.dispose();
  }
  assertEquals(await snapshot(new URL("fixtures/models", root).pathname), fixturesBefore);
});

Deno.test("bad inputs: --help prints the usage and exits 0 on every program", async () => {
  for (const program of ["sample", "analyze", "dependency", "data", "metrics", "demo"]) {
    const r = await denoRun([new URL(`main/${program}.ts`, root).pathname, "--help"]);
    assertEquals(r.code, 0, `${program}: ${r.stderr}`);
    assert(r.stdout.includes("--"), `${program} --help printed: ${r.stdout}`);
  }
});

Deno.test("bad inputs: a damaged saved batch is sampled again, with a warning", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parlab-bad-" });
  try {
    const store = new ResumeStore(`${dir}/parts`, 4);
    await store.load({ k: 1 }, 4, { onMismatch: "refuse" });
    await store.save(0, Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    await store.save(2, Int32Array.from([9, 9, 9, 9, 9, 9, 9, 9]));
    const bytes = await Deno.readFile(`${dir}/parts/2.npy`);
    bytes[bytes.length - 1] ^= 0xff; // one flipped byte
    await Deno.writeFile(`${dir}/parts/2.npy`, bytes);
    const warnings: string[] = [];
    const resumed = await store.load({ k: 1 }, 4, {
      onMismatch: "refuse",
      warn: (w) => warnings.push(w),
    });
    assertEquals(resumed, Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    assertEquals(warnings.length, 1);
    assert(warnings[0].includes("fails its checksum"), warnings[0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
