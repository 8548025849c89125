/**
 * The video rows of `deno task analyze`: quick mode on the tiny video parity model (timed, not
 * scored: its clips are not the data's), a model on the data's grid scored end to end (an
 * in-memory model standing in for a trained one), the entropy probes, the report section, and a
 * clean skip without video models.
 */
import { assert, assertEquals } from "./assert.ts";
import {
  QUICK_VIDEO_SETTINGS,
  runVideoExperiments,
  VIDEO_EXPERIMENTS,
} from "../analysis/experiment_video.ts";
import { spaceTimeCurves } from "../analysis/experiment_video_probe.ts";
import { videoMarkdown } from "../analysis/experiment_video_report.ts";
import { functionModel } from "../src/sampler/function_model.ts";
import { makeGrid } from "../src/media/grid.ts";

const MODELS = new URL("../fixtures/models/", import.meta.url);

/** A temporary models folder holding copies of the named fixture model files. */
async function modelsWith(names: string[]): Promise<string> {
  const dir = await Deno.makeTempDir();
  for (const entry of Deno.readDirSync(MODELS)) {
    if (names.some((n) => entry.name.startsWith(`${n}.`))) {
      await Deno.copyFile(new URL(entry.name, MODELS), `${dir}/${entry.name}`);
    }
  }
  return dir;
}

Deno.test("video rows, quick mode, tiny video model: steps, timing, consistency, a note instead of scores", async () => {
  const models = await modelsWith(["tiny-video-par4"]);
  const out = await Deno.makeTempDir();
  try {
    const lines: string[] = [];
    const run = () =>
      runVideoExperiments({
        ...QUICK_VIDEO_SETTINGS,
        outDir: out,
        modelsDir: models,
        progress: false,
        log: (l) => lines.push(l),
      });
    const v = await run();
    assertEquals(v.status, "ran");
    assertEquals(v.missing, ["video-raster", "video-par16"]);
    assertEquals(v.rows.length, 1);
    const r = v.rows[0];
    assertEquals([r.spec.id, r.model.name, r.clips], ["video-par4", "tiny-video-par4", 4]);
    // PAR-4x on 3 frames of 4x4: 4 initial steps, then 3 x 4 - 1 parallel steps of 4 cells
    assertEquals(r.steps, 15);
    assert(r.latencySeconds !== null && r.latencySeconds > 0, "latency measured");
    assert(r.secondsPerImage !== null && r.secondsPerImage > 0, "throughput measured");
    assertEquals(r.speedupLatency, null); // no raster row to compare with
    assert(r.temporalConsistency >= 0 && r.temporalConsistency <= 1);
    assertEquals(r.quality, null);
    assert(r.qualityNote?.includes("3x4x4") && r.qualityNote.includes("5x8x8"), r.qualityNote);
    // the probes ran on real val clips: dependency falls with distance in space and in time
    const p = v.probe!;
    assertEquals(p.clips, 200);
    assert(p.fine.spatial[0].mean > p.fine.spatial.at(-1)!.mean, "spatial MI falls");
    assert(p.coarse!.temporal[0].mean > p.coarse!.temporal.at(-1)!.mean, "temporal MI falls");
    assertEquals(p.fine.nextFrame[0].distance, 0);
    await Deno.stat(`${out}/mi_space_time.png`);
    const saved = JSON.parse(await Deno.readTextFile(`${out}/video.json`));
    assertEquals(saved.rows[0].steps, 15);
    assert(v.realConsistency!.val > 0.3 && v.realConsistency!.val < 1, "real clips move");
    const md = videoMarkdown(v, "video");
    assert(md.includes("| PAR-4x | tiny-video-par4 | 15 |"), md);
    assert(md.includes("not scored: its 3x4x4 clips"), md);
    assert(md.includes("video/mi_space_time.png"), md);
    // a rerun reuses the finished row
    lines.length = 0;
    await run();
    assert(lines.some((l) => l.includes("finished before")), lines.join("\n"));
  } finally {
    await Deno.remove(out, { recursive: true });
    await Deno.remove(models, { recursive: true });
  }
});

Deno.test("video rows: a model on the data's grid is scored against real clips", async () => {
  const grid = makeGrid(8, 8, 5);
  const plane = 64;
  // A model that mostly repeats the same cell of the previous frame (temporally coherent clips).
  const model = () =>
    functionModel({
      name: "copy-previous-frame",
      vocab: 1024,
      classes: 4,
      grid,
      logits: ({ cell, context, classIndex }) => {
        const out = new Float32Array(1024).fill(-10);
        const prev = cell >= plane ? context[cell - plane] : -1;
        out[(classIndex ?? 0) * 7 + (cell % 5)] = 2;
        if (prev >= 0) out[prev] = 6;
        return out;
      },
    });
  const models = await Deno.makeTempDir();
  const out = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${models}/video-raster.json`, JSON.stringify(model().manifest));
    const v = await runVideoExperiments({
      ...QUICK_VIDEO_SETTINGS,
      perClass: 2,
      outDir: out,
      modelsDir: models,
      configs: VIDEO_EXPERIMENTS.filter((e) => e.id === "video-raster"),
      progress: false,
      log: () => {},
      load: () => Promise.resolve(model()),
    });
    const r = v.rows[0];
    assertEquals(r.steps, 320);
    assertEquals(r.speedupLatency, 1);
    const q = r.quality!;
    assertEquals(q.n, 8);
    assert(Number.isFinite(q.frechet) && q.frechet > 0, `Fréchet ${q.frechet}`);
    assert(q.classAccuracy >= 0 && q.classAccuracy <= 1);
    for (const js of [q.pairJS.horizontal, q.pairJS.vertical, q.pairJS.temporal]) {
      assert(js > 0 && js <= 1, `JS ${js}`);
    }
    assertEquals(q.temporalConsistency, r.temporalConsistency);
    assert(r.temporalConsistency > 0.9, `consistency ${r.temporalConsistency}`);
    // the real-clip floor is far closer to the reference than these clips
    const f = v.floor!;
    assertEquals(f.n, 8);
    assert(f.frechet < q.frechet, `floor ${f.frechet} vs ${q.frechet}`);
    assert(f.pairJS.temporal < q.pairJS.temporal, "floor temporal JS");
    assert(v.classifier!.valAccuracyRecon! > 0.5, "the classifier's ceiling is recorded");
    assert(v.reference!.includes("48 train clips"), v.reference!);
    await Deno.stat(`${out}/video-raster/clips.png`);
    await Deno.stat(`${out}/video-raster/tokens.npy`);
    const md = videoMarkdown(v, "video");
    assert(md.includes("| real val clips (floor) |"), md);
    assert(md.includes("![video-raster samples](video/video-raster/clips.png)"), md);
  } finally {
    await Deno.remove(out, { recursive: true });
    await Deno.remove(models, { recursive: true });
  }
});

Deno.test("video rows: skipped with a one-line note when there is no video model", async () => {
  const models = await modelsWith(["tiny-par4"]);
  const out = await Deno.makeTempDir();
  try {
    const v = await runVideoExperiments({ outDir: out, modelsDir: models, progress: false });
    assertEquals(v.status, "skipped");
    assert(v.note!.startsWith("no video model in"), v.note);
    assertEquals([...Deno.readDirSync(out)].length, 0);
    const md = videoMarkdown(v, "video");
    assertEquals(md.trim().split("\n").length, 3);
  } finally {
    await Deno.remove(out, { recursive: true });
    await Deno.remove(models, { recursive: true });
  }
});

Deno.test("space-time curves: same frame, same cell and next frame by hand", () => {
  // 2 frames of 1x2 cells: I = 1 for the same cell across frames, 0.5 for next-frame neighbours,
  // 0.25 inside a frame
  const grid = { frames: 2, height: 1, width: 2 };
  const mi = new Float64Array(16);
  const set = (i: number, j: number, v: number) => {
    mi[i * 4 + j] = v;
    mi[j * 4 + i] = v;
  };
  set(0, 1, 0.25);
  set(2, 3, 0.25);
  set(0, 2, 1);
  set(1, 3, 1);
  set(0, 3, 0.5);
  set(1, 2, 0.5);
  const c = spaceTimeCurves(mi, grid);
  assertEquals(c.spatial, [{ distance: 1, mean: 0.25, pairs: 4 }]);
  assertEquals(c.temporal, [{ distance: 1, mean: 1, pairs: 4 }]);
  assertEquals(c.nextFrame, [
    { distance: 0, mean: 1, pairs: 4 },
    { distance: 1, mean: 0.5, pairs: 4 },
  ]);
});
