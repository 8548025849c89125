/**
 * Which token data the experiments score against: the folder of the models' codebook unless
 * `--data` says otherwise, and one message naming `--data` when model and data disagree.
 */
import { EXPERIMENTS, modelsDataDir, runExperiments } from "../analysis/experiments.ts";
import { UsageError } from "../src/util/errors.ts";
import { assertEquals, assertRejects } from "./assert.ts";

Deno.test("modelsDataDir: the folder of the models' codebook, relative to the working folder", async () => {
  assertEquals(await modelsDataDir(["fixtures/models/tiny-par4.json"]), "fixtures/emoji");
  assertEquals(await modelsDataDir([]), "fixtures/emoji");
});

Deno.test("modelsDataDir: models trained on different data are refused with the fix", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const manifest = (codebook: string) =>
      JSON.stringify({ tokenizer: { kind: "patch-kmeans", codebook } });
    await Deno.writeTextFile(`${dir}/a.json`, manifest("../a/codebook.npy.gz"));
    await Deno.writeTextFile(`${dir}/b.json`, manifest("../b/codebook.npy.gz"));
    assertEquals(await modelsDataDir([`${dir}/a.json`]), `${dir.replace(/\/[^/]+$/, "")}/a`);
    const err = await assertRejects(
      () => modelsDataDir([`${dir}/a.json`, `${dir}/b.json`]),
      UsageError,
    );
    assertEquals(/different token data .*Fix: .*--data/.test(err.message), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The cheapest run of the tiny models that still samples, scores and times. */
const TINY_RUN = {
  prefixes: ["tiny-"],
  perClass: 1,
  latencyImages: 1,
  timingRounds: 1,
  timingWarmup: false,
  nllGrids: 2,
  referencePerClass: 2,
  kidSubsets: 2,
  bootstrap: 2,
  mosaicPerClass: 1,
  progress: false,
};

Deno.test("runExperiments: a 24x24 model scored on 16x16 data names --data", async () => {
  const out = await Deno.makeTempDir();
  try {
    const err = await assertRejects(
      () =>
        runExperiments({
          outDir: out,
          dataDir: "fixtures/emoji16",
          ...TINY_RUN,
          configs: EXPERIMENTS.filter((e) => e.id === "par4"),
          log: () => {},
        }),
      UsageError,
    );
    assertEquals(/24x24 .* 16x16 .*Fix: pass --data/.test(err.message), true);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("runExperiments: a manifest's sampling default edited in place is not served from the cache", async () => {
  const models = await Deno.makeTempDir();
  const out = await Deno.makeTempDir();
  try {
    await Deno.copyFile("fixtures/models/tiny-par16.onnx", `${models}/tiny-par16.onnx`);
    const manifest = JSON.parse(await Deno.readTextFile("fixtures/models/tiny-par16.json"));
    manifest.tokenizer = null;
    const write = () =>
      Deno.writeTextFile(`${models}/tiny-par16.json`, JSON.stringify(manifest, null, 1));
    await write();
    const lines: string[] = [];
    const run = () =>
      runExperiments({
        outDir: out,
        modelsDir: models,
        dataDir: "fixtures/emoji",
        ...TINY_RUN,
        configs: EXPERIMENTS.filter((e) => e.id === "par16"),
        log: (l) => lines.push(l),
      });
    await run();
    await run();
    assertEquals(lines.filter((l) => l.includes("finished before")).length, 1);
    manifest.sampling.cfgScale = manifest.sampling.cfgScale + 1;
    await write();
    await run();
    assertEquals(lines.filter((l) => l.includes("finished before")).length, 1);
  } finally {
    await Deno.remove(models, { recursive: true });
    await Deno.remove(out, { recursive: true });
  }
});
