import { assertEquals } from "./assert.ts";
import { interleaveImages, mosaicImage, tokensToMosaic } from "../src/viz/mosaic.ts";
import { PatchKMeansTokenizer } from "../src/tokenizer/mod.ts";
import { loadSharp } from "../src/deps/sharp.ts";

const sharp = await loadSharp();

Deno.test("mosaic layout: size, gaps and nearest-neighbour scaling", () => {
  const images = { n: 3, height: 2, width: 2, data: new Uint8Array(3 * 12).map((_, i) => i) };
  const m = mosaicImage(images, { cols: 2, scale: 2, gap: 1, background: [9, 9, 9] });
  assertEquals([m.width, m.height], [1 + 2 * 5, 1 + 2 * 5]);
  assertEquals([...m.data.subarray(0, 3)], [9, 9, 9]); // corner is gap
  const px = (
    x: number,
    y: number,
  ) => [...m.data.subarray((y * m.width + x) * 3, (y * m.width + x) * 3 + 3)];
  assertEquals(px(1, 1), [0, 1, 2]);
  assertEquals(px(2, 2), [0, 1, 2]); // upscaled copy of pixel (0, 0)
  assertEquals(px(3, 1), [3, 4, 5]);
  assertEquals(px(6, 1), [12, 13, 14]); // second picture
  assertEquals(px(7, 7), [9, 9, 9]); // empty fourth cell
  const pairs = interleaveImages(images, images);
  assertEquals(pairs.n, 6);
});

Deno.test("tokensToMosaic decodes with the tokenizer and returns a PNG", async () => {
  const codebook = new Float32Array(2 * 12);
  codebook.fill(255, 12); // code 0 black, code 1 white
  const tok = new PatchKMeansTokenizer(codebook, 2);
  const tokens = Uint16Array.from({ length: 2 * 9 }, (_, i) => i % 2);
  const png = await tokensToMosaic({ n: 2, height: 3, width: 3, tokens }, tok, {
    cols: 2,
    scale: 1,
  });
  const meta = await sharp(png).metadata();
  assertEquals([meta.format, meta.width, meta.height], ["png", 2 + 2 * (6 + 2), 2 + 6 + 2]);
});
