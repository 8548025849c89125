/**
 * The TypeScript sampler against python/sampler.py: given the same uniforms, the tiny models'
 * full CFG decodes pick the tokens the Python reference sampler picked (fixtures/golden/<model>/
 * sample.npy). Logits differ between onnxruntime and PyTorch by ~1e-6, which can move a draw
 * only when its uniform lands that close to a CDF edge (margins.npy records each draw's distance
 * in probability mass); such a flip changes the context of everything after it in that image.
 * So, per image and in schedule order, every draw must agree until the first step holding an
 * ambiguous draw (margin < 1e-4), where only the ambiguous draws may differ; later steps of that
 * image are not compared.
 */
import { assert } from "./assert.ts";
import { loadNpyFile } from "../src/io/mod.ts";
import { loadOnnxModel } from "../src/model/mod.ts";
import { sample } from "../src/sampler/sampler.ts";
import { scheduleFromJSON } from "../src/schedule/mod.ts";

const goldenRoot = new URL("../fixtures/golden/", import.meta.url);
const names = (() => {
  try {
    return [...Deno.readDirSync(goldenRoot)].filter((e) => e.isDirectory).map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
})();

for (const name of names) {
  Deno.test(`sampler reproduces the Python reference sample: ${name}`, async () => {
    const dir = new URL(`${name}/`, goldenRoot);
    const index = JSON.parse(await Deno.readTextFile(new URL("index.json", dir)));
    const manifestUrl = new URL(index.manifest, dir);
    const model = await loadOnnxModel(manifestUrl);
    try {
      const uniforms = (await loadNpyFile(new URL(index.uniforms, dir))).data as Float64Array;
      const want = (await loadNpyFile(new URL(index.sample, dir))).data as BigInt64Array;
      const s = index.sampling;
      const out = await sample(model, {
        schedule: scheduleFromJSON(model.manifest.schedule),
        classes: index.classes,
        cfgScale: s.cfgScale,
        cfgInterval: s.cfgInterval,
        temperature: s.temperature,
        topK: s.topK,
        topP: s.topP,
        uniforms,
      });
      assert(out.tokens.length === want.length, `${name}: ${out.tokens.length} tokens`);
      const margins = (await loadNpyFile(new URL(index.margins, dir))).data as Float64Array;
      const cells = want.length / index.classes.length;
      let compared = 0;
      for (let b = 0; b < index.classes.length; b++) {
        for (const step of model.manifest.schedule!.steps) {
          let ambiguous = false;
          for (const c of step.cells) {
            const i = b * cells + c;
            if (margins[i] < 1e-4) ambiguous = true;
            else {
              assert(
                BigInt(out.tokens[i]) === want[i],
                `${name}: image ${b} cell ${c}: ${out.tokens[i]} vs Python ${want[i]} (margin ${
                  margins[i]
                })`,
              );
              compared++;
            }
          }
          if (ambiguous) break;
        }
      }
      assert(compared > 0, `${name}: nothing compared`);
    } finally {
      await model.dispose();
    }
  });
}
