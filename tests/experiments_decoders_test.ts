/**
 * The training-free decoder configurations of the experiments (ZipAR, SJD on the raster model):
 * they run through every stage on tiny-raster, record model calls and their traces, resume a
 * half-finished sampling run from its saved batches, redo only a configuration whose decoder
 * setting changed, and reach the report (table, findings, figures).
 */
import {
  EXPERIMENTS,
  type ExperimentSpec,
  QUICK_EXPERIMENTS,
  runExperiments,
} from "../analysis/experiments.ts";
import { drawTokens, summarizeTraces } from "../analysis/experiment_draw.ts";
import {
  decoderFindings,
  experimentsMarkdown,
  speedQualityTable,
  writeExperimentFigures,
} from "../analysis/experiment_report.ts";
import { FIXTURE_MODELS_DIR, loadModel } from "../src/model/mod.ts";
import { effectiveSettings, ResumeStore, sampleMany } from "../src/sampler/mod.ts";
import { raster } from "../src/schedule/mod.ts";
import { loadNpyFile } from "../src/io/npy.ts";
import { assert, assertEquals } from "./assert.ts";

const byId = (id: string) => EXPERIMENTS.find((e) => e.id === id)!;

/** Cheap settings: 1 picture per class (9), batches of 4 (4 + 4 + 1), one timing round. */
const TINY = {
  perClass: 1,
  batchSize: 4,
  latencyImages: 1,
  timingRounds: 1,
  timingWarmup: false,
  nllGrids: 2,
  referencePerClass: 4,
  kidSubsets: 2,
  bootstrap: 2,
  mosaicPerClass: 1,
  prefixes: ["tiny-"],
  progress: false,
};

const tinyRaster = `${FIXTURE_MODELS_DIR.pathname.replace(/\/$/, "")}/tiny-raster.json`;

Deno.test("experiments: the decoder configurations and quick mode's share of them", () => {
  const ids = EXPERIMENTS.filter((e) => e.decoder).map((e) => e.id);
  assertEquals(ids, ["zipar2", "zipar4", "zipar8", "zipar-adaptive", "sjd4", "sjd15"]);
  for (const e of EXPERIMENTS.filter((e) => e.decoder)) {
    assertEquals([e.model, e.schedule], ["raster", "raster"], e.id);
  }
  const quick = QUICK_EXPERIMENTS.filter((e) => e.decoder).map((e) => e.decoder!.kind);
  assertEquals(quick, ["zipar", "sjd"]);
  assert(!QUICK_EXPERIMENTS.some((e) => e.cross), "quick mode has no cross pairings");
});

Deno.test("experiments: drawTokens places a batch's images in the run like one call", async () => {
  const model = await loadModel(tinyRaster);
  try {
    const schedule = raster(model.manifest.grid);
    const settings = effectiveSettings(model.manifest, { seed: 3 });
    const classes = [0, 1, 2, 3];
    const cells = 576;
    const draw = (spec: ExperimentSpec, from: number, to: number) =>
      drawTokens(model, spec, schedule, {
        classes: classes.slice(from, to),
        settings,
        imageOffset: from,
      });
    // A schedule configuration draws exactly what sampleMany (the earlier path) drew.
    const many = await sampleMany(model, { schedule, classes, ...settings, batchSize: 3 });
    const whole = await draw(byId("raster"), 0, 4);
    assertEquals(whole.tokens, many.tokens);
    assertEquals(whole.trace.modelCalls, 576);
    // ZipAR, fixed window: image i's uniforms are the run's, whatever the batch.
    const z = byId("zipar8");
    const zAll = await draw(z, 0, 4);
    const zTail = await draw(z, 2, 4);
    assertEquals(zAll.trace.modelCalls, 208);
    assertEquals(zTail.tokens, zAll.tokens.subarray(2 * cells));
    // Adaptive ZipAR and SJD: each image has its own seeded stream (imageOffset); an image
    // alone in its batch gets the same tokens as alone in a one-image call at that offset.
    for (const id of ["zipar-adaptive", "sjd4"]) {
      const a = await draw(byId(id), 3, 4);
      const b = await draw(byId(id), 3, 4);
      assertEquals(a.tokens, b.tokens, id);
      const other = await draw(byId(id), 2, 3);
      assert(other.tokens.some((t, k) => t !== a.tokens[k]), `${id}: offsets differ`);
    }
    const sjd = await draw(byId("sjd4"), 0, 2);
    const sum = summarizeTraces(byId("sjd4").decoder, [sjd.trace], cells);
    assertEquals(sum.modelCalls, sjd.trace.modelCalls);
    assertEquals(sum.decoderTrace!.acceptedDraftMap!.length, cells);
    assertEquals(
      sum.decoderTrace!.acceptanceRateMap![cells - 1],
      null,
      "the last cell is no draft",
    );
    assert(sum.decoderTrace!.acceptanceRateMap![0]! >= 0, "cell 0 is drafted in the first call");
    assertEquals(
      sum.decoderTrace!.iterations!.reduce((a, p) => a + p.committed, 0),
      cells,
      "a batch commits every cell once",
    );
  } finally {
    await model.dispose();
  }
});

Deno.test("experiments: ZipAR and SJD run, resume and reach results and report", async () => {
  const out = await Deno.makeTempDir({ prefix: "parlab-exp-dec-" });
  try {
    const configs = ["raster", "zipar2", "sjd4"].map(byId);
    const first = await runExperiments({ ...TINY, configs, outDir: out, log: () => {} });
    const [ras, zip, sjd] = first.rows;
    assertEquals(first.rows.map((r) => r.spec.id), ["raster", "zipar2", "sjd4"]);
    assertEquals(first.models, { raster: "tiny-raster" });
    assertEquals([ras.steps, zip.steps, sjd.steps], [576, 70, null]);
    assertEquals(ras.modelCalls, { sampling: 576, batch1: 576 });
    assertEquals(zip.modelCalls, { sampling: 70, batch1: 70 });
    const calls = sjd.modelCalls!;
    assert(calls.sampling > 1 && calls.sampling <= 576, `SJD calls ${calls.sampling}`);
    assert(calls.batch1! > 1 && calls.batch1! <= 576, `SJD batch-1 calls ${calls.batch1}`);
    // The val NLL is the raster model's under raster: computed once, the same number.
    assertEquals(zip.valNll, ras.valNll);
    assertEquals(sjd.valNll, ras.valNll);
    assert(zip.speedupLatency! > 0 && sjd.speedupThroughput! > 0, "speed-ups against raster");
    const t = sjd.decoderTrace!;
    assertEquals([t.kind, t.images, t.acceptedDraftMap!.length], ["sjd", 9, 576]);
    assert(t.cellsPerCall! >= 1, `${t.cellsPerCall}`);
    assertEquals(zip.decoderTrace?.kind, "zipar");
    const saved = JSON.parse(await Deno.readTextFile(`${out}/experiments.json`));
    assertEquals(saved.rows[2].modelCalls.sampling, calls.sampling);
    assertEquals(saved.rows[2].spec.decoder, { kind: "sjd", draftLength: 4 });
    const sjdTokens = (await loadNpyFile(`${out}/sjd4/tokens.npy`)).data as Uint16Array;

    // Report: the rows with their calls, the generated findings, the decoder figures.
    const table = speedQualityTable(first);
    assert(table.includes("| ZipAR window 2 (raster model) | tiny-raster | 70 | 70 / 70 |"), table);
    assert(table.includes("| SJD 4 drafts (raster model) | tiny-raster | - |"), table);
    const findings = decoderFindings(first);
    assert(findings.some((l) => l.includes("**Model calls**")), findings.join("\n"));
    assert(findings.some((l) => l.startsWith("- **SJD 4 drafts")), findings.join("\n"));
    const md = experimentsMarkdown(first, "experiments");
    assert(md.includes("## Training-free decoders on the raster model"), md);
    assert(md.includes("experiments/sjd_acceptance.png"), md);
    const figures = await writeExperimentFigures(first, out, 1);
    for (const f of ["zipar_wavefront.png", "sjd_acceptance.png", "sjd_iterations.png"]) {
      assert(figures.includes(f), figures.join());
      assert((await Deno.stat(`${out}/${f}`)).size > 1000, f);
    }

    // An interrupted SJD run: its first two batches saved (batch 0 marked: all token 5), the
    // rest missing. The rerun resumes them and draws only the last image, as the first run did.
    const fingerprint = JSON.parse(await Deno.readTextFile(`${out}/sjd4/sampling.json`))
      .fingerprint as string;
    for (const f of ["sampling.json", "result.json", "tokens.npy"]) {
      await Deno.remove(`${out}/sjd4/${f}`);
    }
    const store = new ResumeStore(`${out}/sjd4/parts`, 576);
    await store.load({ fingerprint }, 9, { onMismatch: "refuse" });
    const trace = (calls: number) =>
      JSON.stringify({ fingerprint, images: 4, modelCalls: calls, iterations: [] });
    await store.save(0, new Int32Array(4 * 576).fill(5));
    await Deno.writeTextFile(`${out}/sjd4/parts/0.trace.json`, trace(100));
    await store.save(4, Int32Array.from(sjdTokens.subarray(4 * 576, 8 * 576)));
    await Deno.writeTextFile(`${out}/sjd4/parts/4.trace.json`, trace(200));
    const lines: string[] = [];
    const resumed = await runExperiments({
      ...TINY,
      configs: [byId("sjd4")],
      outDir: out,
      log: (l) => lines.push(l),
    });
    const again = (await loadNpyFile(`${out}/sjd4/tokens.npy`)).data as Uint16Array;
    assert(again.subarray(0, 4 * 576).every((x) => x === 5), "batch 0 came from the store");
    assertEquals(again.subarray(4 * 576), sjdTokens.subarray(4 * 576), "same tokens as before");
    // Calls per image: the saved traces' counts, and the redrawn last image's own.
    const r = resumed.rows[0].modelCalls!.sampling;
    assert(r > (4 * 100 + 4 * 200) / 9 && r < (4 * 100 + 4 * 200 + 576) / 9, `${r}`);
    assert(!lines.some((l) => l.includes("reusing")), lines.join("\n"));

    // A changed decoder setting (same id) redoes that configuration only.
    const changed: ExperimentSpec = { ...byId("zipar2"), decoder: { kind: "zipar", window: 4 } };
    const log: string[] = [];
    const third = await runExperiments({
      ...TINY,
      configs: [byId("raster"), changed],
      outDir: out,
      log: (l) => log.push(l),
    });
    assert(log.some((l) => l.includes("raster: finished before")), log.join("\n"));
    assert(!log.some((l) => l.includes("zipar2: finished before")), log.join("\n"));
    assertEquals(third.rows[1].modelCalls!.sampling, 116);
    assertEquals(third.rows[1].steps, 116);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
