/**
 * Video models: the manifest of a model over frames x height x width cells with a 3D rotary table
 * (python/rope.py), its refusals (table vs frames, split vs head, a schedule of the other kind),
 * and the committed tiny video model (fixtures/models/tiny-video-par4) sampling a clip under
 * PAR-4x, every cell exactly once, and decoding it with its palette codebook.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { makeGrid } from "../src/media/grid.ts";
import {
  isVideoModel,
  loadModelTokenizer,
  loadOnnxModel,
  parseModelManifest,
} from "../src/model/mod.ts";
import { sample } from "../src/sampler/sampler.ts";
import { PairingError } from "../src/sampler/pairing.ts";
import { par, raster, scheduleFromJSON, scheduleToJSON } from "../src/schedule/mod.ts";
import { ManifestError } from "../src/util/errors.ts";

const models = new URL("../fixtures/models/", import.meta.url);
const videoPath = new URL("tiny-video-par4.json", models);
const imagePath = new URL("tiny-par4.json", models);
// deno-lint-ignore no-explicit-any
type Json = any;
const video: Json = JSON.parse(await Deno.readTextFile(videoPath));
const image: Json = JSON.parse(await Deno.readTextFile(imagePath));
const CLIP = makeGrid(4, 4, 3);

/** A deep copy of `base` edited by `edit`. */
function edited(base: Json, edit: (m: Json) => void): Json {
  const m = structuredClone(base);
  edit(m);
  return m;
}

/** The manifest's error: one line, naming the field and a fix. */
function refusal(m: Json, field: string, ...parts: string[]): string {
  const err = assertThrows(() => parseModelManifest(m, "m.json"), ManifestError);
  const msg = err.message;
  assert(msg.startsWith(`m.json: field "${field}"`), msg);
  assert(msg.includes("Fix: ") && !msg.includes("\n"), msg);
  for (const p of parts) assert(msg.includes(p), `${JSON.stringify(p)} not in: ${msg}`);
  return msg;
}

Deno.test("the tiny video model's manifest is a video model with the 3D table", () => {
  const m = parseModelManifest(video, "tiny-video-par4.json");
  assert(isVideoModel(m));
  assertEquals(m.grid, { frames: 3, height: 4, width: 4 });
  assertEquals(m.rope, { kind: "3d", split: [2, 2, 2] });
  assertEquals(m.rope!.split.reduce((a, b) => a + b, 0) * 2, m.headDim);
  // the trained schedule is PAR-4x on the clip grid, exactly as src/schedule builds it
  assertEquals(scheduleToJSON(scheduleFromJSON(m.schedule)), scheduleToJSON(par(CLIP, { m: 2 })));
  // an image manifest written before `rope` existed still loads, as 2D
  const old = parseModelManifest(image, "tiny-par4.json");
  assert(!isVideoModel(old) && old.rope === undefined);
  const now = parseModelManifest({ ...image, rope: { kind: "2d", split: [3, 3] } }, "x.json");
  assertEquals(now.rope, { kind: "2d", split: [3, 3] });
});

Deno.test("a video manifest with an image table or schedule, or the reverse, is refused", () => {
  refusal(
    edited(video, (m) => (m.rope.kind = "2d")),
    "rope.kind",
    "3 frames",
    "3D table",
  );
  refusal(
    { ...image, rope: { kind: "3d", split: [2, 2, 2] } },
    "rope.kind",
    "one frame (24x24)",
  );
  refusal(edited(video, (m) => (m.rope.split = [2, 2, 3])), "rope.split", "headDim / 2 = 6");
  refusal(edited(video, (m) => (m.rope.split = [3, 3])), "rope.split", "time, row, col");
  refusal(
    edited(video, (m) => (m.rope.split = [0, 3, 3])),
    "rope.split.0",
    "expected number to be >0",
  );
  refusal(
    edited(video, (m) => (m.schedule = JSON.parse(scheduleToJSON(par(makeGrid(4, 4), { m: 2 }))))),
    "schedule.grid",
    "is an image schedule on 4x4 but the model is a video model on 3x4x4",
    "makeGrid(4, 4, 3)",
  );
  refusal(
    edited(
      image,
      (m) => (m.schedule = JSON.parse(scheduleToJSON(par(makeGrid(24, 24, 5), { m: 2 })))),
    ),
    "schedule.grid",
    "is a video schedule on 5x24x24 but the model is an image model on 24x24",
    "makeGrid(24, 24)",
  );
  refusal(
    edited(video, (m) => (m.grid.frames = 5)),
    "schedule.grid",
    "on 3x4x4 but the model is a video model on 5x4x4",
  );
});

Deno.test("the tiny video model samples a PAR-4x clip, every cell exactly once", async () => {
  const model = await loadOnnxModel(videoPath);
  try {
    const schedule = par(CLIP, { m: 2 });
    const out = await sample(model, { schedule, classes: [0, 3], seed: 7, cfgScale: 2 });
    assertEquals(out.trace.length, 15); // 4 single steps, then 11 steps of 4 cells
    const cells = out.trace.flatMap((t) => t.cells).sort((a, b) => a - b);
    assertEquals(cells, Array.from({ length: 48 }, (_, i) => i));
    assertEquals(out.tokens.length, 2 * 48);
    assert(out.tokens.every((t) => t >= 0 && t < 64), "tokens outside the vocabulary");
    // the same clip again from the same seed, and raster order also runs on the video model
    const again = await sample(model, { schedule, classes: [0, 3], seed: 7, cfgScale: 2 });
    assertEquals(again.tokens, out.tokens);
    const r = await sample(model, {
      schedule: raster(CLIP),
      classes: [1],
      seed: 1,
      onWarning: () => {},
    });
    assertEquals(r.trace.length, 48);
    // its palette codebook decodes the clip into 3 frames of 24x24 pixels
    const tok = await loadModelTokenizer(model);
    const frames = await tok.decode({ n: 2, frames: 3, height: 4, width: 4, tokens: out.tokens });
    assertEquals([frames.n, frames.frames, frames.height, frames.width], [2, 3, 24, 24]);
  } finally {
    await model.dispose();
  }
});

Deno.test("an image schedule on the video model, or a clip schedule on an image model, is refused", async () => {
  const model = await loadOnnxModel(videoPath);
  try {
    const err = await sample(model, { schedule: par(makeGrid(4, 4), { m: 2 }), classes: [0] })
      .then(() => null, (e) => e);
    assert(err instanceof PairingError, String(err));
    assert(err.message.includes("makeGrid(4, 4, 3)"), err.message);
    const five = await sample(model, { schedule: par(makeGrid(4, 4, 5), { m: 2 }), classes: [0] })
      .then(() => null, (e) => e);
    assert(five instanceof PairingError && five.message.includes("5x4x4"), String(five));
  } finally {
    await model.dispose();
  }
  const img = await loadOnnxModel(imagePath);
  try {
    const err = await sample(img, { schedule: par(makeGrid(24, 24, 2), { m: 2 }), classes: [0] })
      .then(() => null, (e) => e);
    assert(err instanceof PairingError && err.message.includes("makeGrid(24, 24)"), String(err));
  } finally {
    await img.dispose();
  }
});
