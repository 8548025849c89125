import { assertEquals, assertThrows } from "./assert.ts";
import {
  asClips,
  asFrames,
  cellMapView,
  imageView,
  makeGrid,
  tokenView,
  viewOf,
} from "../src/media/mod.ts";

Deno.test("tokenView: [n, F, H, W] over the same memory, frames default to 1", () => {
  const tokens = Uint16Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
  const v = tokenView({ n: 2, height: 3, width: 4, tokens });
  assertEquals(v.shape, [2, 1, 3, 4]);
  assertEquals(v.get(1, 0, 2, 3), 23);
  tokens[5] = 99; // a view, not a copy
  assertEquals(v.get(0, 0, 1, 1), 99);
  const clip = tokenView({ n: 1, frames: 2, height: 3, width: 4, tokens });
  assertEquals(clip.get(0, 1, 0, 0), 12);
  assertEquals(clip.pick(0, 1, 2, null).shape, [4]);
});

Deno.test("imageView and cellMapView: shapes, and sizes that disagree are refused", () => {
  const data = new Uint8Array(2 * 2 * 2 * 3).map((_, i) => i);
  assertEquals(imageView({ n: 2, height: 2, width: 2, data }).get(1, 0, 1, 1, 2), 23);
  const map = cellMapView(new Float64Array(2 * 3 * 3).fill(1), makeGrid(3, 3, 2));
  assertEquals(map.shape, [2, 3, 3]);
  assertThrows(() => cellMapView(new Float64Array(5), makeGrid(3, 3)), RangeError, "needs 9");
  assertThrows(() => viewOf(new Float32Array(6), [2, 4]), RangeError, "holds 8 values");
});

Deno.test("asFrames / asClips: a clip batch is frames in a row, and back", () => {
  const b = { n: 2, frames: 3, height: 1, width: 1, tokens: new Uint16Array(6) };
  const frames = asFrames(b);
  assertEquals([frames.n, frames.frames], [6, 1]);
  const clips = asClips(frames, 3);
  assertEquals([clips.n, clips.frames], [2, 3]);
  assertThrows(() => asClips(frames, 4), RangeError, "cannot group 6 frames");
});

Deno.test("the patch tokenizer and mosaics carry frames: a clip is its frames in a row", async () => {
  const { loadPatchTokenizer } = await import("../src/data/mod.ts");
  const { mosaicImage } = await import("../src/viz/mod.ts");
  const tok = await loadPatchTokenizer();
  const tokens = Uint16Array.from({ length: 2 * 3 * 4 * 4 }, (_, i) => (i * 37) % tok.vocabSize);
  const clips = await tok.decode({ n: 2, frames: 3, height: 4, width: 4, tokens });
  assertEquals([clips.n, clips.frames, clips.height, clips.width], [2, 3, 8, 8]);
  const single = await tok.decode({ n: 6, height: 4, width: 4, tokens });
  assertEquals(clips.data, single.data);
  const back = await tok.encode(clips);
  assertEquals([back.n, back.frames], [2, 3]);
  assertEquals(back.tokens, tok.encodeSync(single).tokens);
  // A clip mosaic is one clip per row, its frames left to right.
  const sheet = mosaicImage(clips, { scale: 1, gap: 0 });
  assertEquals([sheet.width, sheet.height], [3 * 8, 2 * 8]);
});
