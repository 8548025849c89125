/**
 * Clips as pictures: the tiling layout, animated WebP and GIF (decoded back with sharp: pages,
 * page size, delays, loop and pixels), PNG frame strips with and without labels, and the HTML a
 * notebook shows an animation with.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { Buffer } from "node:buffer";
import type { ImageBatch } from "../src/media/batches.ts";
import { clipAt, tileClips } from "../src/media/clip_layout.ts";
import { clipStrips, encodeAnimation, labelColumn } from "../src/viz/clips.ts";
import { animationHtml } from "../src/viz/notebook.ts";
import { loadSharp } from "../src/deps/sharp.ts";

const sharp = await loadSharp();

/**
 * n clips of F frames, H x W: pixel (i, f, y, x) = [40 i + 10 f, 7 y, 5 x] (few enough colours
 * for a GIF palette to hold them exactly, every one telling clip, frame and place apart).
 */
function clips(n: number, frames: number, height: number, width: number): ImageBatch {
  const data = new Uint8Array(n * frames * height * width * 3);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < frames; f++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const p = (((i * frames + f) * height + y) * width + x) * 3;
          data.set([40 * i + 10 * f, 7 * y, 5 * x], p);
        }
      }
    }
  }
  return { n, frames, height, width, data };
}

/** RGB of pixel (x, y) of frame f of a one-clip batch, or of an RGB(A) buffer with `channels`. */
function px(
  data: Uint8Array,
  width: number,
  x: number,
  y: number,
  channels = 3,
  pageOffset = 0,
): number[] {
  const p = pageOffset + (y * width + x) * channels;
  return [data[p], data[p + 1], data[p + 2]];
}

Deno.test("tileClips: one clip upscales nearest-neighbour, frame by frame", () => {
  const one = clipAt(clips(2, 3, 2, 2), 1);
  assertEquals([one.n, one.frames, one.height, one.width], [1, 3, 2, 2]);
  const big = tileClips(one, { scale: 3 });
  assertEquals([big.n, big.frames, big.height, big.width], [1, 3, 6, 6]);
  const frame = 6 * 6 * 3;
  assertEquals(px(big.data, 6, 0, 0), [40, 0, 0]);
  assertEquals(px(big.data, 6, 2, 2), [40, 0, 0]); // the same source pixel, 3x3 block
  assertEquals(px(big.data, 6, 3, 0), [40, 0, 5]);
  assertEquals(px(big.data, 6, 5, 5), [40, 7, 5]);
  assertEquals(px(big.data, 6, 0, 0, 3, 2 * frame), [60, 0, 0]); // frame 2
});

Deno.test("tileClips: clips side by side on a grid with gaps, every frame", () => {
  const batch = clips(3, 2, 2, 3);
  const t = tileClips(batch, { cols: 2, scale: 2, gap: 1, background: [1, 2, 3] });
  // 2 columns of 6 px, 2 rows of 4 px, gaps of 1 around and between.
  assertEquals([t.n, t.frames, t.width, t.height], [1, 2, 1 + 2 * 7, 1 + 2 * 5]);
  const frame = t.width * t.height * 3;
  assertEquals(px(t.data, t.width, 0, 0), [1, 2, 3]); // border
  assertEquals(px(t.data, t.width, 1, 1), [0, 0, 0]); // clip 0, pixel (0, 0)
  assertEquals(px(t.data, t.width, 8, 1), [40, 0, 0]); // clip 1 starts after 1 + 6 + 1
  assertEquals(px(t.data, t.width, 1, 6), [80, 0, 0]); // clip 2: second row
  assertEquals(px(t.data, t.width, 8, 6), [1, 2, 3]); // no fourth clip
  assertEquals(px(t.data, t.width, 8, 1, 3, frame), [50, 0, 0]); // clip 1, frame 1
  assertEquals(px(t.data, t.width, 12, 4, 3, frame), [50, 7, 10]); // clip 1 frame 1 (2, 1)
});

Deno.test("tileClips and clipAt refuse bad shapes and options", () => {
  const batch = clips(2, 2, 2, 2);
  assertThrows(() => clipAt(batch, 2), RangeError, "outside the batch");
  assertThrows(() => tileClips(batch, { scale: 0 }), RangeError, "scale");
  assertThrows(() => tileClips(batch, { gap: 1.5 }), RangeError, "gap");
  assertThrows(
    () => tileClips({ ...batch, data: batch.data.subarray(1) }),
    RangeError,
    "expected n*frames*height*width*3",
  );
});

Deno.test("encodeAnimation: animated WebP with F pages of the upscaled size, exact pixels", async () => {
  const clip = clipAt(clips(1, 5, 6, 4), 0);
  const webp = await encodeAnimation(clip, { fps: 4, scale: 2 });
  const meta = await sharp(webp).metadata();
  assertEquals(meta.format, "webp");
  assertEquals([meta.pages, meta.width, meta.height], [5, 8, 12]); // first page only
  assertEquals(meta.delay, [250, 250, 250, 250, 250]);
  assertEquals(meta.loop, 0);
  const { data, info } = await sharp(webp, { animated: true }).raw().toBuffer({
    resolveWithObject: true,
  });
  assertEquals([info.width, info.height, info.pageHeight], [8, 60, 12]);
  const want = tileClips(clip, { scale: 2 });
  const got = new Uint8Array(5 * 8 * 12 * 3);
  for (let p = 0; p < 5 * 8 * 12; p++) {
    got.set(data.subarray(p * info.channels, p * info.channels + 3), p * 3);
  }
  assertEquals(got, want.data, "lossless: every frame decodes to the tiled pixels");
  assertEquals(await encodeAnimation(clip, { fps: 4, scale: 2 }), webp, "deterministic");
});

Deno.test("encodeAnimation: animated GIF with F pages, delays, loop count and pixels", async () => {
  const batch = clips(3, 4, 5, 5);
  const gif = await encodeAnimation(batch, { format: "gif", fps: 10, cols: 3, gap: 1, loop: 2 });
  const meta = await sharp(gif).metadata();
  assertEquals(meta.format, "gif");
  assertEquals([meta.pages, meta.width, meta.height], [4, 1 + 3 * 6, 1 + 6]);
  assertEquals(meta.delay, [100, 100, 100, 100]);
  assertEquals(meta.loop, 2);
  const { data, info } = await sharp(gif, { animated: true }).raw().toBuffer({
    resolveWithObject: true,
  });
  const page = info.width * (info.pageHeight ?? 0) * info.channels;
  // Under 256 colours in all: the palette holds them exactly.
  assertEquals(px(data, info.width, 1, 1, info.channels), [0, 0, 0]);
  assertEquals(px(data, info.width, 7 + 4, 1 + 3, info.channels, 3 * page), [70, 21, 20]);
  assertEquals(
    await encodeAnimation(batch, { format: "gif", fps: 10, cols: 3, gap: 1, loop: 2 }),
    gif,
  );
});

Deno.test("encodeAnimation refuses impossible options", async () => {
  const clip = clips(1, 2, 2, 2);
  for (
    const [options, word] of [
      [{ fps: 0 }, "fps"],
      [{ fps: 60 }, "fps"],
      [{ loop: -1 }, "loop"],
      [{ format: "apng" }, "format"],
    ] as const
  ) {
    let message = "";
    // deno-lint-ignore no-explicit-any
    await encodeAnimation(clip, options as any).catch((e) => (message = e.message));
    assert(message.includes(word), `${JSON.stringify(options)}: ${message}`);
  }
});

Deno.test("clipStrips: frames left to right, clips stacked, pixels kept", async () => {
  const batch = clips(2, 3, 4, 5);
  const png = await clipStrips(batch, { scale: 2, gap: 1, background: [9, 9, 9] });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  // 3 frames of 10 px across, 2 clips of 8 px down, gaps of 1.
  assertEquals([info.width, info.height], [1 + 3 * 11, 1 + 2 * 9]);
  assertEquals(px(data, info.width, 0, 0, info.channels), [9, 9, 9]);
  assertEquals(px(data, info.width, 1, 1, info.channels), [0, 0, 0]); // clip 0 frame 0
  assertEquals(px(data, info.width, 12, 1, info.channels), [10, 0, 0]); // clip 0 frame 1
  assertEquals(px(data, info.width, 23 + 9, 10 + 7, info.channels), [60, 21, 20]); // clip 1 frame 2
});

Deno.test("clipStrips with labels: a label column left of the same strips", async () => {
  const batch = clips(2, 3, 4, 5);
  const plain = await sharp(await clipStrips(batch, { scale: 2, gap: 1 })).raw()
    .toBuffer({ resolveWithObject: true });
  const labels = ["slide", "zoom"];
  const png = await clipStrips(batch, { scale: 2, gap: 1, labels });
  const left = labelColumn(labels);
  assertEquals(left, 12 + 38);
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  // labelledRowsFigure: labelWidth + strip + 8 across; a 24 px title band, 2 px air, rows 4 apart.
  assertEquals(info.width, left + (1 + 3 * 11) + 8);
  assertEquals(info.height, 26 + 2 * ((1 + 9) + 4) + 4);
  // Every pixel of each row's strip is where the row starts, unchanged.
  for (const [row, y0] of [[0, 26], [1, 26 + 14]]) {
    for (let y = 0; y < 10; y++) {
      for (let x = 0; x < 34; x++) {
        const want = px(plain.data, plain.info.width, x, row * 9 + y, plain.info.channels);
        assertEquals(
          px(data, info.width, left + x, y0 + y, info.channels),
          want,
          `${row} ${x},${y}`,
        );
      }
    }
  }
  // The label column has dark text pixels on white.
  let dark = 0;
  for (let y = 26; y < 36; y++) {
    for (let x = 0; x < left; x++) {
      if (px(data, info.width, x, y, info.channels)[0] < 128) dark++;
    }
  }
  assert(dark > 5, `label pixels: ${dark}`);
  assertEquals(await clipStrips(batch, { scale: 2, gap: 1, labels }), png);
});

Deno.test("clipStrips: a long title widens the figure instead of being cut; no clips refused", async () => {
  const batch = clips(1, 2, 2, 2);
  const title = "a title much longer than the strip and its label";
  const png = await clipStrips(batch, { labels: ["x"], title });
  const meta = await sharp(png).metadata();
  assertEquals(meta.width, Math.ceil(12 + 9.5 * title.length));
  let message = "";
  await clipStrips({ ...batch, n: 0, data: new Uint8Array(0) }, { labels: [] })
    .catch((e) => (message = e.message));
  assert(message.includes("at least one clip"), message);
});

Deno.test("animationHtml: an <img> whose data: URI holds the bytes", async () => {
  const webp = await encodeAnimation(clips(1, 2, 2, 2));
  const html = animationHtml(webp, "webp", 'a "clip"');
  const m = /^<img src="data:image\/webp;base64,([A-Za-z0-9+/=]+)" alt="a &quot;clip&quot;"/
    .exec(html);
  assert(m, html.slice(0, 80));
  assertEquals(new Uint8Array(Buffer.from(m[1], "base64")), webp);
  assert(animationHtml(webp, "gif").startsWith('<img src="data:image/gif;base64,'));
});
