/**
 * Speed of the emoji fixture pipeline: the whole `deno task data` build (pictures, k-means,
 * encoding, files), and encoding / decoding the val set with the committed codebook.
 */
import { buildEmojiFixtures } from "../src/data/build_emoji.ts";
import { loadEmojiDataset, loadPatchTokenizer } from "../src/data/emoji_fixture.ts";

const tok = await loadPatchTokenizer();
const val = await loadEmojiDataset("val");
const grids = { n: val.n, height: val.height, width: val.width, tokens: val.tokens };
const pictures = tok.decodeSync(grids);

Deno.bench({
  name: "full emoji fixture build (K=1024, 200k patches, 20 iterations)",
  group: "build",
  n: 1,
  warmup: 0,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await buildEmojiFixtures({ outDir: dir });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.bench({
  name: `encode ${val.n} val pictures (48x48, K=1024)`,
  group: "tokenizer",
  n: 3,
  warmup: 1,
  fn() {
    tok.encodeSync(pictures);
  },
});

Deno.bench({
  name: `decode ${val.n} val token grids`,
  group: "tokenizer",
  fn() {
    tok.decodeSync(grids);
  },
});
