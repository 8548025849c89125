/**
 * Replays python/golden.py's golden files through onnxruntime-node and reports the largest
 * logit difference per step: the proof that an exported model computes what PyTorch computed.
 * @module
 */
import { loadNpyFile } from "../src/io/mod.ts";
import { type ARModel, loadOnnxModel } from "../src/model/mod.ts";

/** One step of a golden index. */
export interface GoldenStep {
  step: number;
  pastLength: number;
  presentLength: number;
  cells: number[];
  inputIds: string;
  positionIds: string;
  attentionMask: string;
  logits: string;
}

/** Per-step result of a replay. */
export interface ReplayResult {
  step: number;
  maxAbsDiff: number;
  presentLength: number;
}

/**
 * Replay every step of the golden folder `dir` (holding index.json) through an {@link ARModel}
 * (by default onnxruntime-node on the CPU): the same `step()` and KV cache the sampler uses.
 */
export async function replayGolden(
  dir: URL,
  load: (manifest: URL) => Promise<ARModel> = (m) => loadOnnxModel(m),
): Promise<{ tolerance: number; results: ReplayResult[] }> {
  const index = JSON.parse(await Deno.readTextFile(new URL("index.json", dir)));
  const model = await load(new URL(index.manifest, dir));
  const cache = model.newCache(index.batch);
  const results: ReplayResult[] = [];
  for (const step of index.steps as GoldenStep[]) {
    const ids = await loadNpyFile(new URL(step.inputIds, dir));
    const pos = await loadNpyFile(new URL(step.positionIds, dir));
    const mask = await loadNpyFile(new URL(step.attentionMask, dir));
    const want = (await loadNpyFile(new URL(step.logits, dir))).data as Float32Array;
    const out = await model.step(cache, {
      batch: ids.shape[0],
      length: ids.shape[1],
      inputIds: ids.data as BigInt64Array,
      positionIds: pos.data as BigInt64Array,
      attentionMask: mask.data as Uint8Array,
    });
    if (out.logits.length !== want.length) {
      throw new Error(
        `step ${step.step}: logits size ${out.logits.length} vs golden ${want.length}`,
      );
    }
    let maxAbsDiff = 0;
    for (let j = 0; j < want.length; j++) {
      const d = Math.abs(out.logits[j] - want[j]);
      if (!(d <= maxAbsDiff)) maxAbsDiff = Number.isNaN(d) ? Infinity : d;
    }
    results.push({ step: step.step, maxAbsDiff, presentLength: cache.length });
  }
  await model.dispose();
  return { tolerance: index.tolerance, results };
}

if (import.meta.main) {
  for (const arg of Deno.args) {
    const dir = new URL(arg.endsWith("/") ? arg : arg + "/", `file://${Deno.cwd()}/`);
    const { results } = await replayGolden(dir);
    console.log(arg, JSON.stringify(results.map((r) => [r.step, r.maxAbsDiff, r.presentLength])));
  }
}
