/**
 * The TypeScript sampler against python/sampler.py: given the same uniforms, the tiny models'
 * full CFG decodes pick the tokens the Python reference sampler picked (fixtures/golden/<model>/
 * sample.npy). Logits differ between onnxruntime and PyTorch by ~1e-6, which can move a draw
 * only when its uniform lands that close to a CDF edge (margins.npy records each draw's distance
 * in probability mass); such a flip changes the context of everything after it in that image.
 * So, per image and in schedule order, every draw must agree until the first step holding an
 * ambiguous draw (margin < 1e-4), where only the ambiguous draws may differ; later steps of that
 * image are not compared.
 *
 * An fp16-compute graph (manifest `compute: "float16"`, e.g. micro-par4-f16) runs here too, on
 * the CPU backend: its logits differ from PyTorch's fp32 ones by up to ~5e-3 there (2.5e-2 on
 * WebGPU), and the total-variation distance of its distributions from the fp32 graph's was at
 * most 1.1e-3 (4.8e-3 on WebGPU) before guidance, which scales differences by up to 2 x cfg - 1.
 * A CDF point moves by at most that distance, so its draws count as ambiguous below a margin of
 * {@link FP16_MARGIN}.
 *
 * A model with the sampling head (micro-par4-head) draws in its graph here, `sample()`'s default
 * for it, so the float32 in-graph draw is held to python/sampler.py's tokens the same way.
 */
import { assert } from "./assert.ts";
import { loadNpyFile } from "../src/io/mod.ts";
import { loadOnnxModel } from "../src/model/mod.ts";
import { sample } from "../src/sampler/sampler.ts";
import { scheduleFromJSON } from "../src/schedule/mod.ts";

const goldenRoot = new URL("../fixtures/golden/", import.meta.url);

/** Margin (probability mass) under which a draw of an fp32 graph may flip: ~1e-6 logit noise. */
const FP32_MARGIN = 1e-4;
/** The same for an fp16-compute graph (see the module doc): 4x the worst measured shift. */
const FP16_MARGIN = 2e-2;
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
      const ambiguousBelow = model.manifest.compute === "float16" ? FP16_MARGIN : FP32_MARGIN;
      let compared = 0;
      for (let b = 0; b < index.classes.length; b++) {
        for (const step of model.manifest.schedule!.steps) {
          let ambiguous = false;
          for (const c of step.cells) {
            const i = b * cells + c;
            if (margins[i] < ambiguousBelow) ambiguous = true;
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
