/**
 * The entropy probes across frames on real clips: shuffle-corrected mutual information of every
 * pair of the F x H x W cells (src/entropy), averaged by offset and then by distance in three
 * directions: in space (same frame, by Euclidean distance in cells), in time (same cell, by
 * frames apart) and across one frame (next frame, by spatial distance). Shows how strongly a
 * token depends on its neighbours in the next frame compared with its neighbours in its own
 * frame: what a video schedule that samples frames together leaves out.
 *
 * Two passes, as in the image dependency analysis: the K codes themselves, and the codes
 * coarse-grained to 32 codebook clusters. With K = 1024 and a few hundred clips the plug-in MI is
 * dominated by its bias and the shuffle correction leaves a noisy remainder; the clusters give
 * denser histograms (a lower bound on the fine dependency, by the data processing inequality).
 * @module
 */
import {
  codebookClusters,
  distanceCurveFigure,
  type DistanceMean,
  meanByOffset,
  type MiEstimator,
  mutualInformationMatrix,
  type OffsetMean,
  pairwiseDependency,
  Rng,
  saveFigure,
  writeFileAtomic,
} from "./deps.ts";
import type { VideoDataset } from "../src/data/video_fixture.ts";

/** The three distance curves of one pass. */
export interface SpaceTimeCurves {
  /** Same frame: mean I against the Euclidean distance in cells. */
  spatial: DistanceMean[];
  /** Same cell: mean I against the frames apart. */
  temporal: DistanceMean[];
  /** One frame apart: mean I against the spatial distance in cells (0 = the same cell). */
  nextFrame: DistanceMean[];
}

/** What the probes measured (`probe.json`). */
export interface VideoProbe {
  /** Real val clips probed. */
  clips: number;
  /** Codes K. */
  vocabSize: number;
  /** The MI estimator. */
  estimator: MiEstimator;
  /** The curves over the K codes. */
  fine: SpaceTimeCurves;
  /** The curves over codebook clusters, and how many (absent without a codebook). */
  coarse?: SpaceTimeCurves & { groups: number };
  /** Seconds of the pair engine (both passes). */
  seconds: number;
  /** The figure (PNG, beside probe.json). */
  figure: string;
  /** Settings fingerprint. */
  fingerprint: string;
}

/** Options of {@link videoProbe}. */
export interface VideoProbeOptions {
  /** Folder of `probe.json` and the figure. */
  outDir: string;
  /** The codebook [K, dim] of the coarse pass (none: fine codes only). */
  codebook?: { data: ArrayLike<number>; dim: number };
  /** Clips probed (a seeded subset; null: all). */
  clips: number | null;
  /** Seed of the subset and of the shuffle baseline. */
  seed: number;
  /** Workers of the pair engine. */
  workers: number;
  /** Probe again even when `probe.json` matches. */
  force: boolean;
}

const ESTIMATOR: MiEstimator = "shuffle";
/** Codebook clusters of the coarse pass (the image dependency analysis uses 32 too). */
const GROUPS = 32;

const round = (x: number) => Number(x.toFixed(5));

/** Pool offset means into distance means by a key (offsets for which `key` is null are left out). */
function pool(
  offsets: readonly OffsetMean[],
  key: (o: OffsetMean) => number | null,
): DistanceMean[] {
  const groups = new Map<number, { sum: number; pairs: number }>();
  for (const o of offsets) {
    const d = key(o);
    if (d === null) continue;
    const g = groups.get(d) ?? { sum: 0, pairs: 0 };
    g.sum += o.mean * o.pairs;
    g.pairs += o.pairs;
    groups.set(d, g);
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([distance, g]) => ({
    distance: round(distance),
    mean: round(g.sum / g.pairs),
    pairs: g.pairs,
  }));
}

/**
 * The three distance curves of a mutual-information matrix over F x H x W clips (see the
 * module doc); pairs are ordered, so every offset counts in both directions.
 * @example
 * const { spatial, temporal, nextFrame } = spaceTimeCurves(mi, { frames: 5, height: 8, width: 8 });
 */
export function spaceTimeCurves(
  mi: ArrayLike<number>,
  grid: { frames: number; height: number; width: number },
): SpaceTimeCurves {
  const offsets = meanByOffset(mi, grid);
  const space = (o: OffsetMean) => Math.hypot(o.dy, o.dx);
  return {
    spatial: pool(offsets, (o) => (o.dt === 0 ? space(o) : null)),
    temporal: pool(offsets, (o) => (o.dy === 0 && o.dx === 0 ? Math.abs(o.dt) : null)),
    nextFrame: pool(offsets, (o) => (Math.abs(o.dt) === 1 ? space(o) : null)),
  };
}

/**
 * Run the probes on real clips (or reuse `probe.json` with the same settings) and draw the
 * figure `mi_space_time.{svg,png}`.
 */
export async function videoProbe(
  ds: VideoDataset,
  o: VideoProbeOptions,
): Promise<VideoProbe> {
  const count = o.clips === null ? ds.n : Math.min(o.clips, ds.n);
  const fingerprint = JSON.stringify({
    n: ds.n,
    clips: count,
    seed: o.seed,
    estimator: ESTIMATOR,
    groups: o.codebook ? GROUPS : null,
  });
  if (!o.force) {
    try {
      const done = JSON.parse(await Deno.readTextFile(`${o.outDir}/probe.json`)) as VideoProbe;
      if (done.fingerprint === fingerprint) return done;
    } catch {
      // not probed yet
    }
  }
  const cells = ds.frames * ds.height * ds.width;
  const rows = count === ds.n
    ? Array.from({ length: ds.n }, (_, i) => i)
    : new Rng(o.seed + 3).shuffle(Array.from({ length: ds.n }, (_, i) => i)).slice(0, count)
      .sort((a, b) => a - b);
  const tokens = new Uint16Array(count * cells);
  rows.forEach((r, i) => tokens.set(ds.tokens.subarray(r * cells, (r + 1) * cells), i * cells));
  const grid = { frames: ds.frames, height: ds.height, width: ds.width };
  const t0 = performance.now();
  const ts = { tokens, count, grid, vocabSize: ds.vocabSize };
  const engine = { workers: o.workers, progress: false, shuffleSeed: o.seed };
  const pass = async (codeMap?: ArrayLike<number>) =>
    spaceTimeCurves(
      mutualInformationMatrix(
        await pairwiseDependency(ts, { ...engine, codeMap, label: "clip pairs" }),
        ESTIMATOR,
      ),
      grid,
    );
  const fine = await pass();
  const clusters = o.codebook
    ? codebookClusters(o.codebook.data, ds.vocabSize, o.codebook.dim, GROUPS, o.seed)
    : null;
  const coarse = clusters
    ? { ...(await pass(clusters.codeMap)), groups: clusters.groups }
    : undefined;
  const seconds = round((performance.now() - t0) / 1000);
  const figure = "mi_space_time";
  const series = (c: SpaceTimeCurves, tag: string) => [
    { name: `same frame, cells apart (${tag})`, points: c.spatial },
    { name: `same cell, frames apart (${tag})`, points: c.temporal },
    { name: `next frame, cells apart (${tag})`, points: c.nextFrame },
  ];
  await saveFigure(
    distanceCurveFigure(
      [...series(fine, "K"), ...(coarse ? series(coarse, `G=${coarse.groups}`) : [])],
      {
        title: `Mutual information in space and time (${count} val clips, ${ESTIMATOR})`,
        xLabel: "distance (cells in a frame, or frames)",
      },
    ),
    `${o.outDir}/${figure}`,
  );
  const probe: VideoProbe = {
    clips: count,
    vocabSize: ds.vocabSize,
    estimator: ESTIMATOR,
    fine,
    ...(coarse ? { coarse } : {}),
    seconds,
    figure: `${figure}.png`,
    fingerprint,
  };
  await writeFileAtomic(`${o.outDir}/probe.json`, JSON.stringify(probe, null, 1));
  return probe;
}
