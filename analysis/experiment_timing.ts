/**
 * Timing of the speed/quality experiments: every configuration in round-robin, so that other
 * jobs on a shared machine and the engine's warm-up hit all configurations alike.
 * @module
 */
import {
  type ARModel,
  effectiveSettings,
  progress,
  type SamplingSettings,
  type Schedule,
  scheduleByName,
  writeFileAtomic,
} from "./deps.ts";
import { drawTokens } from "./experiment_draw.ts";
import type { ExperimentResult, ExperimentSettings, ExperimentSpec } from "./experiment_types.ts";

/**
 * What timing reads from a configuration's result and fills in: the image rows'
 * {@link ExperimentResult} and the video rows (analysis/experiment_video.ts) alike.
 */
export type TimedResult = Pick<
  ExperimentResult,
  | "sampling"
  | "steps"
  | "modelCalls"
  | "latencySeconds"
  | "secondsPerImage"
  | "modelShare"
  | "timing"
>;

const r4 = (x: number) => Number(x.toPrecision(6));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const k = Math.floor(s.length / 2);
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
}

/** A configuration ready to time: its model, schedule and effective sampling settings. */
interface Loaded {
  model: ARModel;
  spec: ExperimentSpec;
  schedule: Schedule;
  settings: SamplingSettings;
}

/**
 * One timing round of one configuration: median single-picture seconds and one batch, drawn as
 * the sampling stage draws (`drawTokens`), with the model calls of the single pictures.
 */
async function timingRound(
  l: Loaded,
  s: Pick<ExperimentSettings, "latencyImages" | "batchSize" | "seed">,
  round: number,
): Promise<{
  single: number | null;
  singleCalls: number[];
  batch: { seconds: number; modelSeconds: number };
}> {
  const C = l.model.manifest.numClasses;
  const single: number[] = [];
  const singleCalls: number[] = [];
  for (let i = 0; i < s.latencyImages; i++) {
    const one = await drawTokens(l.model, l.spec, l.schedule, {
      classes: [i % C],
      settings: { ...l.settings, seed: s.seed + 1_000_003 + i },
      onWarning: () => {},
    });
    single.push(one.seconds);
    singleCalls.push(one.trace.modelCalls);
  }
  const batch = await drawTokens(l.model, l.spec, l.schedule, {
    classes: Array.from({ length: s.batchSize }, (_, i) => i % C),
    settings: { ...l.settings, seed: s.seed + 2_000_003 + round },
    onWarning: () => {},
  });
  return { single: single.length ? median(single) : null, singleCalls, batch };
}

/**
 * Time every configuration in round-robin: all models loaded, one warm-up round, then
 * `timingRounds` rounds that each visit every configuration (a few single pictures, then one
 * batch). Latency: a configuration's best round median; throughput: its best batch. Other jobs
 * on a shared machine and the JavaScript engine's warm-up only ever add time, and the
 * round-robin spreads them over all configurations alike, so the ratios (speed-ups) hold up.
 */
export async function timeAll<R extends TimedResult>(
  items: { spec: ExperimentSpec; path: string; result: R }[],
  s: Pick<
    ExperimentSettings,
    "latencyImages" | "timingRounds" | "timingWarmup" | "batchSize" | "seed"
  >,
  o: { load: (path: string) => Promise<ARModel>; progress: boolean },
  key: string,
): Promise<R[]> {
  const loaded: Loaded[] = [];
  try {
    for (const it of items) {
      const model = await o.load(it.path);
      loaded.push({
        model,
        spec: it.spec,
        schedule: scheduleByName(model.manifest.grid, it.spec.schedule),
        // The sampling run's guidance; the other settings are the manifest's, as when sampling.
        settings: effectiveSettings(model.manifest, { cfgScale: it.result.sampling.cfgScale }),
      });
    }
    const loadAverage = Deno.loadavg()[0];
    const rounds = Math.max(1, s.timingRounds);
    const first = s.timingWarmup ? 0 : 1; // round 0 is the untimed warm-up
    const bar = o.progress
      ? progress("timing (round-robin)", (rounds + 1 - first) * items.length)
      : { update() {}, stop() {} };
    const medians: number[][] = items.map(() => []);
    const calls: number[][] = items.map(() => []);
    const best = items.map(() => ({ seconds: Infinity, modelSeconds: 0 }));
    for (let round = first; round <= rounds; round++) {
      for (const [k, l] of loaded.entries()) {
        const t = await timingRound(l, s, round);
        bar.update((round - first) * items.length + k + 1);
        if (round === 0) continue; // warm-up round
        if (t.single !== null) medians[k].push(t.single);
        calls[k].push(...t.singleCalls);
        if (t.batch.seconds < best[k].seconds) best[k] = t.batch;
      }
    }
    bar.stop();
    const at = new Date().toISOString();
    return items.map((it, k): R => ({
      ...it.result,
      latencySeconds: medians[k].length ? r4(Math.min(...medians[k])) : null,
      secondsPerImage: r4(best[k].seconds / s.batchSize),
      modelShare: r4(best[k].modelSeconds / best[k].seconds),
      modelCalls: {
        sampling: it.result.modelCalls?.sampling ?? it.result.steps ?? NaN,
        batch1: calls[k].length ? r4(calls[k].reduce((a, x) => a + x, 0) / calls[k].length) : null,
      },
      timing: { at, loadAverage: r4(loadAverage), key },
    }));
  } finally {
    for (const l of loaded) await l.model.dispose();
  }
}

/**
 * The timing phase of a run (image and video rows alike): when `retime` is set or any result
 * lacks a timing under `key`, every configuration is timed together ({@link timeAll}) and each
 * timed result is written to `<outDir>/<id>/result.json`. Returns the results, timed or as given.
 */
export async function timeStale<R extends TimedResult>(
  items: { spec: ExperimentSpec; path: string; result: R }[],
  s: Parameters<typeof timeAll>[1],
  o: Parameters<typeof timeAll>[2] & {
    retime?: boolean;
    outDir: string;
    log: (message: string) => void;
    what: string;
  },
  key: string,
): Promise<R[]> {
  if (!o.retime && items.every((it) => it.result.timing?.key === key)) {
    return items.map((it) => it.result);
  }
  o.log(`timing ${items.length} ${o.what}, ${s.timingRounds} rounds (round-robin)`);
  const timed = await timeAll(items, s, o, key);
  for (const [k, r] of timed.entries()) {
    await writeFileAtomic(
      `${o.outDir}/${items[k].spec.id}/result.json`,
      JSON.stringify(r, null, 1),
    );
  }
  return timed;
}
