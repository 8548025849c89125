/**
 * Timing of the speed/quality experiments: every configuration in round-robin, so that other
 * jobs on a shared machine and the engine's warm-up hit all configurations alike.
 * @module
 */
import { type ARModel, progress, sample, type Schedule, scheduleByName } from "./deps.ts";
import type { ExperimentResult, ExperimentSettings, ExperimentSpec } from "./experiment_types.ts";

const r4 = (x: number) => Number(x.toPrecision(6));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const k = Math.floor(s.length / 2);
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
}

/** One timing round of one configuration: median single-picture seconds and one batch. */
async function timingRound(
  model: ARModel,
  schedule: Schedule,
  s: ExperimentSettings,
  cfgScale: number,
  round: number,
): Promise<{ single: number | null; batch: { seconds: number; modelSeconds: number } }> {
  const C = model.manifest.numClasses;
  const single: number[] = [];
  for (let i = 0; i < s.latencyImages; i++) {
    const one = await sample(model, {
      schedule,
      classes: [i % C],
      cfgScale,
      seed: s.seed + 1_000_003 + i,
      onWarning: () => {},
    });
    single.push(one.seconds);
  }
  const batch = await sample(model, {
    schedule,
    classes: Array.from({ length: s.batchSize }, (_, i) => i % C),
    cfgScale,
    seed: s.seed + 2_000_003 + round,
    onWarning: () => {},
  });
  return { single: single.length ? median(single) : null, batch };
}

/**
 * Time every configuration in round-robin: all models loaded, one warm-up round, then
 * `timingRounds` rounds that each visit every configuration (a few single pictures, then one
 * batch). Latency: a configuration's best round median; throughput: its best batch. Other jobs
 * on a shared machine and the JavaScript engine's warm-up only ever add time, and the
 * round-robin spreads them over all configurations alike, so the ratios (speed-ups) hold up.
 */
export async function timeAll(
  items: { spec: ExperimentSpec; path: string; result: ExperimentResult }[],
  s: ExperimentSettings,
  o: { load: (path: string) => Promise<ARModel>; progress: boolean },
  key: string,
): Promise<ExperimentResult[]> {
  const loaded: { model: ARModel; schedule: Schedule; cfgScale: number }[] = [];
  try {
    for (const it of items) {
      const model = await o.load(it.path);
      loaded.push({
        model,
        schedule: scheduleByName(model.manifest.grid, it.spec.schedule),
        cfgScale: it.result.sampling.cfgScale,
      });
    }
    const loadAverage = Deno.loadavg()[0];
    const rounds = Math.max(1, s.timingRounds);
    const first = s.timingWarmup ? 0 : 1; // round 0 is the untimed warm-up
    const bar = o.progress
      ? progress("timing (round-robin)", (rounds + 1 - first) * items.length)
      : { update() {}, stop() {} };
    const medians: number[][] = items.map(() => []);
    const best = items.map(() => ({ seconds: Infinity, modelSeconds: 0 }));
    for (let round = first; round <= rounds; round++) {
      for (const [k, l] of loaded.entries()) {
        const t = await timingRound(l.model, l.schedule, s, l.cfgScale, round);
        bar.update((round - first) * items.length + k + 1);
        if (round === 0) continue; // warm-up round
        if (t.single !== null) medians[k].push(t.single);
        if (t.batch.seconds < best[k].seconds) best[k] = t.batch;
      }
    }
    bar.stop();
    const at = new Date().toISOString();
    return items.map((it, k): ExperimentResult => ({
      ...it.result,
      latencySeconds: medians[k].length ? r4(Math.min(...medians[k])) : null,
      secondsPerImage: r4(best[k].seconds / s.batchSize),
      modelShare: r4(best[k].modelSeconds / best[k].seconds),
      timing: { at, loadAverage: r4(loadAverage), key },
    }));
  } finally {
    for (const l of loaded) await l.model.dispose();
  }
}
