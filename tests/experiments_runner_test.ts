import {
  type Backend,
  balancedRows,
  codeFraction,
  EXPERIMENTS,
  findModel,
  runExperiments,
  whiteCodes,
  withSpeedups,
} from "../analysis/experiments.ts";
import {
  ablationTable,
  speedQualityTable,
  writeExperimentFigures,
} from "../analysis/experiment_report.ts";
import { FIXTURE_MODELS_DIR } from "../src/model/mod.ts";
import { BACKEND_CHOICES } from "../src/runtime/mod.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";

/** The cheapest setting that still runs every stage: 1 picture per class on two tiny models. */
const TINY = {
  perClass: 1,
  latencyImages: 1,
  nllGrids: 2,
  referencePerClass: 4,
  kidSubsets: 2,
  mosaicPerClass: 1,
  prefixes: ["tiny-"],
  progress: false,
  configs: EXPERIMENTS.filter((e) => e.id === "par16" || e.id === "par4-model-causal"),
};

Deno.test("experiments: every stage on tiny models, then a rerun skips finished configurations", async () => {
  const out = await Deno.makeTempDir({ prefix: "parlab-exp-" });
  try {
    const lines: string[] = [];
    const first = await runExperiments({ ...TINY, outDir: out, log: (l) => lines.push(l) });
    assertEquals(first.rows.map((r) => r.spec.id), ["par16", "par4-model-causal"]);
    assertEquals(first.models, { par16: "tiny-par16", par4: "tiny-par4" });
    const [par16, cross] = first.rows;
    assertEquals(par16.steps, 51);
    assertEquals(cross.steps, 147);
    // Model calls per image, counted from the traces: one a step for a schedule.
    assertEquals(par16.modelCalls, { sampling: 51, batch1: 51 });
    assertEquals(cross.modelCalls?.sampling, 147);
    assertEquals(par16.images, 9);
    assertEquals(par16.valNll.grids, 2);
    assert(par16.valNll.nats > 0 && par16.valNll.nats < 7, `NLL ${par16.valNll.nats}`);
    assert(par16.quality.frechet > 0, "Fréchet is positive");
    assert(par16.latencySeconds! > 0 && par16.secondsPerImage! > 0, "timed");
    assert(lines.some((l) => l.startsWith("timing 2 configurations")), lines.join("\n"));
    // No raster row in this run, so no speed-up.
    assertEquals(par16.speedupLatency, null);
    assertEquals(first.floor.quality.n, 9);
    assert(par16.whiteFraction >= 0 && par16.whiteFraction <= 1, `${par16.whiteFraction}`);
    assert(first.floorWhiteFraction > 0.1, "real emoji have white background");
    for (const f of ["tokens.npy", "labels.npy", "sampling.json", "result.json", "samples.png"]) {
      await Deno.stat(`${out}/par16/${f}`);
    }
    const saved = JSON.parse(await Deno.readTextFile(`${out}/experiments.json`));
    assertEquals(saved.rows.length, 2);

    // Rerun: nothing is sampled again, the numbers are read back.
    const again: string[] = [];
    const second = await runExperiments({ ...TINY, outDir: out, log: (l) => again.push(l) });
    assertEquals(again.filter((l) => l.includes("skipped")).length, 2);
    assert(!again.some((l) => l.startsWith("timing")), "timing kept");
    assertEquals(second.rows.map((r) => r.quality), first.rows.map((r) => r.quality));

    // A changed scoring setting keeps the samples but scores them again; --retime times again.
    const rescored: string[] = [];
    const third = await runExperiments({
      ...TINY,
      configs: TINY.configs.slice(0, 1),
      nllGrids: 3,
      retime: true,
      outDir: out,
      log: (l) => rescored.push(l),
    });
    assert(rescored.some((l) => l.includes("reusing")), rescored.join("\n"));
    assert(rescored.some((l) => l.startsWith("timing 1")), rescored.join("\n"));
    assertEquals(third.rows[0].valNll.grids, 3);
    assertEquals(third.rows[0].quality, first.rows[0].quality);
    assert(third.rows[0].timing!.at > first.rows[0].timing!.at, "timed again");

    // Report pieces.
    const table = speedQualityTable(first);
    assert(table.includes("| PAR-16x | tiny-par16 | 51 |"), table);
    assert(table.includes("real val (floor, n = 9)"), table);
    const ablations = ablationTable(first);
    assert(ablations.includes("16 (par16, 51 steps)"), ablations);
    assert(!ablations.includes("raster / multi"), "rows that did not run are left out");
    const figures = await writeExperimentFigures(first, out, 1);
    for (const f of figures) assert((await Deno.stat(`${out}/${f}`)).size > 1000, f);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("experiments: speed-ups are against the raster row", () => {
  const row = (id: string, latency: number, perImage: number) =>
    ({ spec: { id }, latencySeconds: latency, secondsPerImage: perImage }) as Parameters<
      typeof withSpeedups
    >[0][number];
  const rows = withSpeedups([row("raster", 2, 1), row("par4", 0.5, 0.5)]);
  assertEquals(rows.map((r) => [r.speedupLatency, r.speedupThroughput]), [[1, 1], [4, 2]]);
});

Deno.test("experiments: models prefer emoji- over tiny-; errors name the fix", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parlab-models-" });
  try {
    await Deno.writeTextFile(`${dir}/tiny-par4.json`, "{}");
    assertEquals(await findModel(dir, "par4"), `${dir}/tiny-par4.json`);
    await Deno.writeTextFile(`${dir}/emoji-par4.json`, "{}");
    assertEquals(await findModel(dir, "par4"), `${dir}/emoji-par4.json`);
    assertEquals(await findModel(dir, "par16"), null);
    assertEquals(
      await findModel(FIXTURE_MODELS_DIR.pathname, "raster", ["tiny-"]),
      `${FIXTURE_MODELS_DIR.pathname.replace(/\/$/, "")}/tiny-raster.json`,
    );
    const none = await assertRejects(
      () => runExperiments({ ...TINY, outDir: dir, modelsDir: `${dir}/nowhere` }),
      Error,
    );
    assert(none.message.includes("Fix:"), none.message);
    const backend = await assertRejects(
      () => runExperiments({ ...TINY, outDir: dir, backend: "tpu" as Backend }),
      Error,
    );
    assert(backend.message.includes(BACKEND_CHOICES), backend.message); // names the table's backends
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("experiments: balanced rows take up to N per class, seeded", () => {
  const labels = [0, 1, 1, 1, 2, 0, 1, 2, 2, 2];
  const rows = balancedRows(labels, 3, 2, 5);
  assertEquals(rows.length, 6);
  assertEquals(rows.map((r) => labels[r]), [0, 0, 1, 1, 2, 2]);
  assertEquals(balancedRows(labels, 3, 2, 5), rows);
  assertEquals(balancedRows(labels, 4, 9, 1).length, labels.length);
});

Deno.test("experiments: white background codes and their share", () => {
  // Three codes of 2 values each: white, near-white but one dark channel, white.
  const book = [250, 255, 250, 100, 246, 247];
  const white = whiteCodes(book, 2);
  assertEquals([...white], [0, 2]);
  assertEquals(codeFraction([0, 1, 2, 1], white), 0.5);
});
