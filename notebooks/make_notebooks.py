"""Writes the notebooks' source cells (outputs come from executing them with nbconvert).

Kept as code so the cell sources are reviewable in diffs; run with any Python 3:
    python3 notebooks/make_notebooks.py 01_orderings
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent


def md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text.strip("\n").splitlines(True)}


def code(text):
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": text.strip("\n").splitlines(True)}


def with_ids(name, cells):
    """nbformat 4.5 wants a stable id per cell: name-index keeps diffs quiet."""
    return [{"id": f"{name}-{i}", **c} for i, c in enumerate(cells)]


def notebook(cells):
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Deno", "language": "typescript", "name": "deno"},
            "language_info": {"name": "typescript", "file_extension": ".ts",
                              "mimetype": "text/x.typescript", "pygments_lexer": "typescript"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


NOTEBOOKS = {}

NOTEBOOKS["01_orderings"] = [
    md("""
# 01 · Generation orders and schedules

A schedule cuts the token grid into steps: the cells of a step are sampled together. This notebook
builds the schedules of the PAR paper (raster, PAR-4x, PAR-16x, the naive raster groups and the
ablations), checks their step counts, and draws them like the paper's Fig. 3.
"""),
    code("""
import {
  displayFigure, makeGrid, par, parWithoutInitial, raster, rasterGroups, scheduleFigure,
  stepSlots, stepsOverTimeFigure,
} from "../mod.ts";

const grid = makeGrid(24, 24);
const schedules = [
  raster(grid),
  par(grid, { m: 2 }),
  par(grid, { m: 4 }),
  rasterGroups(grid, { n: 4 }),
  par(grid, { m: 2, attention: "causal" }),
  parWithoutInitial(grid, { m: 2 }),
];
console.table(schedules.map((s) => ({
  schedule: s.name,
  steps: s.steps.length,
  "max parallel": Math.max(...s.steps.map((x) => x.cells.length)),
  "transition slots": s.transitionSlots,
  "speed-up limit": (576 / s.steps.length).toFixed(2) + "x",
})));
"""),
    md("""
## PAR-4x: regions and step numbers

The grid is cut into 2 x 2 regions. Steps 1-4 sample the first cell of each region one at a time
(they fix the global layout); from step 5 on, each step samples the same in-region position in all
four regions: four distant, weakly dependent cells at once.
"""),
    code("""
displayFigure(scheduleFigure(schedules[1], { colorBy: "region", cellSize: 18 }));
"""),
    md("""
## PAR-16x and the naive alternative

PAR-16x uses 4 x 4 regions (51 steps). The naive raster groups put four *adjacent* cells into one
step: the same 147 steps as PAR-4x, but the cells sampled together depend on each other strongly.
"""),
    code("""
displayFigure(scheduleFigure(schedules[2], { cellSize: 18 }));
"""),
    code("""
displayFigure(scheduleFigure(schedules[3], { cellSize: 18 }));
"""),
    md("""
## How the model sees a schedule

Each step feeds the tokens sampled in the previous step; the first parallel step needs four query
slots but has only one new token, so three learnable *transition* tokens fill the rest.
"""),
    code("""
const slots = stepSlots(schedules[1]);
slots.slice(3, 6).map((step, i) => `step ${i + 4}: ` + step.map((s) => s.kind === "cell" ? `cell ${s.cell}` : s.kind === "transition" ? `T${s.transition}` : "class").join(", "));
"""),
    md("""
## Tokens over steps, and a video grid

The second view compares schedules over time. Video grids (frames x H x W) use spatial regions
that span all frames: a 5 x 16 x 16 clip takes 1280 steps raster, 323 with PAR-4x, 95 with PAR-16x.
"""),
    code("""
displayFigure(stepsOverTimeFigure(schedules.slice(0, 4)));
"""),
    code("""
const video = makeGrid(8, 8, 3);
displayFigure(scheduleFigure(par(video, { m: 2 }), { cellSize: 16 }));
"""),
]

NOTEBOOKS["02_dependency"] = [
    md("""
# 02 · How strongly do emoji tokens depend on each other?

PAR rests on one observation: adjacent tokens depend on each other strongly, distant ones weakly,
so distant tokens can be sampled in the same step. This notebook measures that on the emoji token
fixture (24 x 24 tokens of a 1024-code patch tokenizer), like the paper's Fig. 9 and Fig. 10:

1. conditional-entropy maps H(X_j | X_ref) around reference cells (model-free, from token counts);
2. mutual information against distance;
3. the *dependency cost* of a schedule: the mutual information among cells sampled in the same step,
   which independent sampling inside a step ignores;
4. model-based entropy increase maps: how much a model's NLL per cell rises when it is trained and
   evaluated under a parallel schedule instead of raster order.

With `PARLAB_QUICK=1` (CI) it uses the val split and a few val grids for the models; the committed
outputs come from a full run (train split, all val grids).
"""),
    code("""
import {
  codebookClusters, conditionalEntropyRow, entropyIncrease, meanByDistance,
  mutualInformationMatrix, pairwiseDependency, scheduleCost,
} from "../src/entropy/mod.ts";
import {
  conditionalEntropyMapsFigure, distanceCurveFigure, entropyIncreaseFigure, scheduleCostFigure,
  showFigure, showMarkdown,
} from "../src/viz/mod.ts";
import { makeGrid, par, randomGroups, raster, rasterGroups } from "../src/schedule/mod.ts";
import { loadEmojiDataset, loadPatchTokenizer } from "../src/data/mod.ts";
import { FIXTURE_MODELS_DIR } from "../src/model/mod.ts";
import { quickMode } from "../analysis/notebook.ts";
import { findModel, modelsDataDir } from "../analysis/experiments.ts";
import { modelEntropyResults } from "../analysis/dependency.ts";

const QUICK = quickMode();
const split = QUICK ? "val" : "train";
const data = await loadEmojiDataset(split);
const grid = makeGrid(data.height, data.width);
const tokenSet = {
  tokens: data.tokens, count: data.n, grid: { height: data.height, width: data.width },
  vocabSize: data.vocabSize, labels: data.labels, classNames: data.classNames,
};
console.log(`${QUICK ? "QUICK mode" : "full run"}: ${split} split, ${data.n} grids, K = ${data.vocabSize}`);
"""),
    md("""
## All pairs of cells

`pairwiseDependency` counts every pair of the 576 cells (165,600 pairs) and returns the mutual
information with three estimators. With K = 1024 codes and a few thousand grids the plug-in
estimate is biased upwards; the `shuffle` estimator subtracts the plug-in MI of independently
permuted columns, i.e. what independence would show. A second pass coarse-grains the codes into 32
clusters of similar colour patches (a lower bound on the fine MI with far less bias).
"""),
    code("""
const t0 = performance.now();
const fine = await pairwiseDependency(tokenSet, { workers: 2, progress: false });
const tok = await loadPatchTokenizer();
const clusters = codebookClusters(tok.codebook, data.vocabSize, 12, 32, 0);
const coarse = await pairwiseDependency(tokenSet, { workers: 2, progress: false, codeMap: clusters.codeMap });
console.log(`${fine.rows} grids, ${fine.cells} cells: ${((performance.now() - t0) / 1000).toFixed(1)} s for both passes`);
"""),
    md("""
## Conditional entropy around a reference cell (paper Fig. 9)

Dark = low conditional entropy = strong dependency on the reference (red outline). The dependency
is concentrated around the reference; far cells keep most of their entropy, but not all of it:
emoji have global structure (skin tone, background colour, left-right mirror symmetry of faces, the
second dark spot).
"""),
    code("""
const cell = (r: number, c: number) => r * grid.width + c;
const refs = [cell(12, 12), cell(6, 6), cell(18, 20), cell(9, 16)];
await showFigure(conditionalEntropyMapsFigure(
  refs.map((ref) => ({ ref, values: conditionalEntropyRow(coarse, ref, "shuffle") })),
  grid,
  { title: "H(X_j | X_ref), shuffle estimator, codes in 32 clusters" },
));
"""),
    code("""
await showFigure(conditionalEntropyMapsFigure(
  refs.map((ref) => ({ ref, values: conditionalEntropyRow(fine, ref, "shuffle") })),
  grid,
  { title: "H(X_j | X_ref), shuffle estimator, all 1024 codes" },
));
"""),
    md("""
## Mutual information against distance
"""),
    code("""
const miFine = mutualInformationMatrix(fine, "shuffle");
const miCoarse = mutualInformationMatrix(coarse, "shuffle");
const series = [
  { name: "plug-in (K codes)", points: meanByDistance(mutualInformationMatrix(fine, "plugin"), grid, { binWidth: 1 }) },
  { name: "shuffle (K codes)", points: meanByDistance(miFine, grid, { binWidth: 1 }) },
  { name: "shuffle (32 clusters)", points: meanByDistance(miCoarse, grid, { binWidth: 1 }) },
];
await showFigure(distanceCurveFigure(series, { title: "Mean I(X_a; X_b) against distance", height: 320 }));
// The table at exact distances (straight offsets), the figure in bins of width 1.
const exact = [
  mutualInformationMatrix(fine, "plugin"), miFine, miCoarse,
].map((mi) => meanByDistance(mi, grid));
const at = (pts: { distance: number; mean: number }[], d: number) =>
  pts.find((p) => Math.abs(p.distance - d) < 1e-9)?.mean.toFixed(2) ?? "-";
showMarkdown([
  "| estimator (exact distance) | d = 1 | d = 2 | d = 4 | d = 8 | d = 16 |",
  "|---|---|---|---|---|---|",
  ...series.map((s, i) => `| ${s.name} | ${[1, 2, 4, 8, 16].map((d) => at(exact[i], d)).join(" | ")} |`),
].join("\\n"));
"""),
    md("""
## What a schedule ignores: within-step mutual information

Cells sampled in one step are drawn independently given the past, so the dependency among them is
lost. Summing the pairwise MI over same-step pairs gives a (pairwise) cost per schedule. PAR's
region-aligned groups pick distant cells; raster groups of 4 pick adjacent ones at the same step
count.
"""),
    code("""
const schedules = [
  raster(grid), par(grid, { m: 2 }), par(grid, { m: 4 }), rasterGroups(grid, { n: 4 }),
  randomGroups(grid, { n: 4, seed: 0 }),
];
const costs = schedules.map((s) => scheduleCost(s, miFine));
const coarseCosts = schedules.map((s) => scheduleCost(s, miCoarse));
await showFigure(scheduleCostFigure(costs, { title: "Within-step pairwise MI (shuffle, K codes)" }));
showMarkdown([
  "| schedule | steps | same-step pairs | total bits | bits per pair | total bits, 32 clusters |",
  "|---|---|---|---|---|---|",
  ...costs.map((c, i) => `| ${c.name} | ${c.steps} | ${c.pairs} | ${c.total.toFixed(0)} | ${c.pairs ? (c.total / c.pairs).toFixed(2) : "-"} | ${coarseCosts[i].total.toFixed(0)} |`),
].join("\\n"));
"""),
    code("""
const shown = [1, 2, 3];
await showFigure(entropyIncreaseFigure(
  shown.map((i) => ({ increase: costs[i].perCell, schedule: schedules[i], title: `${schedules[i].name}: Σ I with same-step cells` })),
  grid,
  {
    title: "Model-free cost map: dependency each cell loses to its own step (labels: steps)",
    legend: "bits", scheme: "reds", reverse: false, pivot: undefined,
    domain: [0, Math.max(...shown.flatMap((i) => Array.from(costs[i].perCell)))], cellSize: 14,
  },
), 1);
"""),
    md("""
## Model-based: the entropy increase map (paper Fig. 10)

Each model was trained under its own schedule (`emoji-<config>` when the experiment models are
present, else the tiny fixture models). Teacher-forcing held-out val grids gives each cell's NLL
under that schedule; the map shows NLL(parallel model) − NLL(raster model) per cell.
"""),
    code("""
const configs = ["raster", "par4", "par16", "raster4"];
const paths = (await Promise.all(configs.map((c) => findModel(FIXTURE_MODELS_DIR.pathname, c)))).filter((p): p is string => p !== null);
// The val grids of the data the models were trained on (fixtures/emoji16 for the experiment
// models, the 24x24 fixture for the tiny ones): the folder of their codebook.
const val = await loadEmojiDataset("val", await modelsDataDir(paths));
const modelGrid = makeGrid(val.height, val.width);
const nVal = QUICK ? 16 : val.n;
const results = await modelEntropyResults(paths, {
  tokens: val.tokens.subarray(0, nVal * val.height * val.width), labels: val.labels.subarray(0, nVal),
}, { progress: false });
const [base, ...others] = results;
const incs = others.map((o) => entropyIncrease(base, o, { quantity: "nll" }));
console.log(`models: ${results.map((r) => r.label).join(", ")}; ${nVal} val grids`);
showMarkdown([
  "| comparison | mean NLL increase (bits/token) | mean predictive-entropy increase (bits/token) |",
  "|---|---|---|",
  ...others.map((o, i) => `| ${incs[i].labels.other} − ${incs[i].labels.base} | ${incs[i].meanIncrease.toFixed(3)} | ${entropyIncrease(base, o, { quantity: "entropy" }).meanIncrease.toFixed(3)} |`),
].join("\\n"));
"""),
    code("""
await showFigure(entropyIncreaseFigure(
  incs.map((inc, k) => ({ increase: inc.increase, schedule: others[k].schedule, title: `${inc.labels.other} − ${inc.labels.base}` })),
  modelGrid,
  { title: "NLL increase per cell over the raster model (labels: step numbers)", legend: "NLL increase, bits", cellSize: 14 },
), 1);
"""),
    md("""
Reading the maps: under PAR the increase sits on the cells whose left/upper neighbours are not yet
sampled when they are (the first column of each region, the first parallel steps); raster groups
raise it on every cell of a group but the first, because its left neighbour is sampled in the same
step. The models are small and briefly trained, so the maps are noisy; the shape is what matters.
"""),
]

NOTEBOOKS["03_speed_quality"] = [
    md("""
# 03 · Speed against quality (paper Tables 2 and 4)

Every schedule is run on the model trained for it (`emoji-<config>`, or the tiny fixture models when
those are absent): the same number of pictures per class, the same seeds (image i gets the same
uniform numbers in every configuration), timed on this machine, and scored against real training
grids:

- **Fréchet / KID**: distance of emoji-classifier features of the decoded pictures (the FID analogue);
- **class accuracy**: does the classifier recognise the conditioning class;
- **pair JS**: Jensen-Shannon divergence of neighbouring code pairs (horizontal / vertical), which
  catches adjacent cells drawn independently;
- **val NLL**: teacher-forced NLL of held-out grids under the configuration's schedule.

Beside them, two training-free decoders run on the unchanged raster model: ZipAR (rows start before
the row above is finished, windows 2, 4, 8 and an adaptive window) and Speculative Jacobi Decoding
(4 and 15 drafts per call), with the same pictures per class and the same quality columns.

The floor row scores real val grids the same way. The runner is `analysis/experiments.ts`, the same
code as `deno task analyze`; in a full run it reuses that task's results in `results/experiments`.
With `PARLAB_QUICK=1` (CI) it samples one picture per class into a temporary folder (one ZipAR and
one SJD configuration).
"""),
    code("""
import {
  DEFAULT_SETTINGS, EXPERIMENTS, QUICK_EXPERIMENTS, QUICK_SETTINGS, runExperiments,
} from "../analysis/experiments.ts";
import {
  ablationRows, ablationTable, speedQualityFigure, speedQualityTable, writeExperimentFigures,
} from "../analysis/experiment_report.ts";
import { showFigure, showMarkdown, showPng } from "../src/viz/mod.ts";
import { quickMode } from "../analysis/notebook.ts";

const QUICK = quickMode();
const outDir = QUICK ? await Deno.makeTempDir({ prefix: "parlab-nb03-" }) : "../results/experiments";
const summary = await runExperiments({
  ...(QUICK ? QUICK_SETTINGS : DEFAULT_SETTINGS), outDir, progress: false, log: () => {},
  configs: QUICK ? QUICK_EXPERIMENTS : EXPERIMENTS,
});
console.log(`${QUICK ? "QUICK mode (plumbing check, not results)" : "full run"}: ${summary.settings.perClass} pictures per class, seed ${summary.settings.seed}`);
console.log(`backend: ${summary.backend} (${summary.backendDetail}) on ${summary.machine}`);
console.log(`models: ${Object.values(summary.models).join(", ")}`);
console.log(`reference: ${summary.reference}`);
"""),
    md("""
## Table 2 shape: speed and quality per configuration

Batch-1 time is the paper's measure (one picture at a time, the median of a few); the batch column
is the throughput of the whole sampling run. Speed-ups are against raster 1x. Model calls per image
are counted from the sampler traces (batch 1: the timing's single pictures; batch 8: the sampling
run, where a batch shares its calls).
"""),
    code("""
showMarkdown(speedQualityTable(summary));
"""),
    code("""
await showFigure(speedQualityFigure(summary), 1.25);
"""),
    md("""
## Table 4 shape: the ablations

The paper's FID (ImageNet 256, PAR-XL-4x; the parallel-token row is PAR-XXL) next to ours.
"""),
    code("""
showMarkdown(ablationTable(summary));
"""),
    code("""
// The comparisons the paper draws, in our numbers (lower Fréchet / pair JS is better).
const byId = new Map(summary.rows.map((r) => [r.spec.id, r]));
const cmp = (a: string, b: string) => {
  const x = byId.get(a), y = byId.get(b);
  if (!x || !y) return `${a} vs ${b}: not both run`;
  const q = (r: typeof x) => `Fréchet ${r.quality.frechet.toFixed(2)}, pair JS h ${r.quality.pairJS.horizontal.toFixed(3)}, NLL ${r.valNll.nats.toFixed(3)}`;
  return `${x.spec.label}: ${q(x)}\\n${y.spec.label}: ${q(y)}\\n  -> lower Fréchet: ${x.quality.frechet < y.quality.frechet ? x.spec.label : y.spec.label}; lower pair JS: ${x.quality.pairJS.horizontal < y.quality.pairJS.horizontal ? x.spec.label : y.spec.label}`;
};
console.log([cmp("par4", "raster4"), cmp("par4", "par4-noinit"), cmp("par4", "par4-causal"), cmp("raster", "par16")].join("\\n\\n"));
"""),
    md("""
## Samples

Left to right: the first pictures of each class, in the classifier's class order; the last row is
real val pictures.
"""),
    code("""
await writeExperimentFigures(summary, outDir);
showPng(await Deno.readFile(`${outDir}/samples_overview.png`));
"""),
    md("""
## Training-free decoders on the raster model: ZipAR and SJD

PAR needs a model trained for its order; ZipAR and Speculative Jacobi Decoding speed up the unchanged
raster model instead (method and what is reproduced: `src/sampler/README.md`). Their val NLL is the
raster model's under raster order, since the model is unchanged. The summary below is generated
from the measured numbers in the table above.
"""),
    code("""
import { decoderFindings, sjdAcceptanceFigure, sjdIterationsFigure, ziparWavefrontFigure } from "../analysis/experiment_report.ts";
import { loadEmojiDataset } from "../src/data/mod.ts";

// The decoders' grid is the data's (16x16 for the emoji16 models, 24x24 for the tiny ones);
// summary.data is relative to this working folder, or absolute.
const decoderData = await loadEmojiDataset("val", summary.data);
const grid = { height: decoderData.height, width: decoderData.width };
showMarkdown(["**Where each wins**", "", ...decoderFindings(summary)].join("\\n"));
"""),
    md("""
### What each leaves out

ZipAR starts row r + 1 once row r holds `window` tokens, so the cells of a step lie on a diagonal
wavefront (step number per cell, like the paper's Fig. 3); its model-free cost (pairs of cells that
neither conditions on) is in the schedule-cost table of `deno task analyze`'s report (`zipar<s>`). SJD is
exact, but only accepted drafts save calls: the maps show, per cell, the share of kept tokens that
were accepted drafts and the acceptance rate of the drafts tested there (like Fig. 10), and the curve
the tokens gained per model call.
"""),
    code("""
const wave = ziparWavefrontFigure(summary, grid);
if (wave) await showFigure(wave, 1);
"""),
    code("""
const acceptance = sjdAcceptanceFigure(summary, grid);
if (acceptance) await showFigure(acceptance, 1);
const perCall = sjdIterationsFigure(summary);
if (perCall) await showFigure(perCall);
"""),
    md("""
## What the committed run shows

(Issue 15's emoji models: 641k parameters, 16x16 grids of 3x3-pixel tokens, 3,000 training steps
each, guidance 3; 32 pictures per class, seed 0; timing on the quiet 2-core CPU.)

- **The samples are class-shaped pictures**: flags as stripes in flag colours, skin-toned heads for
  People & Body, yellow discs for Smileys; few are a particular emoji. Fréchet 4.4-6.8 against a
  floor of 0.86, class accuracy 0.36-0.49 against 0.60 for real val (chance 0.11).
- **Parallel tokens 1 / 4 / 16**: Fréchet 4.43 / 4.47 / 5.15 (paper 2.34 / 2.35 / 3.02): PAR-4x
  keeps raster's quality, PAR-16x loses a little, at 3.45x and 6.75x raster's speed (batch 1).
- **Raster groups of 4 vs PAR-4x** (same 67 steps): 6.80 vs 4.47 (paper 5.64 vs 2.61), horizontal
  pair JS 0.466 vs 0.321; the par4 model run in the raster-4 order breaks the same way (10.1).
- **Attention inside a group**: causal 6.09 vs full 4.47 (paper 3.64 vs 2.61).
- **Initial sequential tokens**: not reproduced here (without 4.18, with 4.47, within the ± 0.5
  bootstrap spread), though the no-init model's neighbour pairs are worse (0.379 vs 0.321).
- **Training-free**: ZipAR-2 is 3.7x faster than raster at Fréchet 6.29; ZipAR-4/8/adaptive stay
  near raster's quality at 1.7-2.7x; SJD is exact but 0.7-0.9x raster's speed on a CPU.
- **Video**: PAR-4x and PAR-16x run 3.9x and 8.7x faster per clip than raster, with Fréchet 23.7 /
  27.7 / 33.0 and temporal consistency 0.61 / 0.53 / 0.55 (real 0.64); the clip models are small and
  their class accuracy is near chance, so read the direction, not the size.
"""),
    md("""
## Video: PAR's clip schedules (paper Table 3 shape)

The paper's video rows (UCF-101, 5 x 16 x 16 tokens) have a counterpart on the moving-emoji clips of
`fixtures/video` (5 frames of 8 x 8 tokens; classes are the motion: slide, bounce, zoom, spin): a
raster, a PAR-4x and a PAR-16x model (`video-<config>`, 3D RoPE), timed per clip and scored with a
clip classifier (Fréchet distance of its features, class accuracy), the temporal consistency of
tokens and the neighbour-pair divergence across frames. PAR's regions are spatial and span all
frames. The entropy probe measures how strongly a token depends on its neighbours in the same frame
and on the same cell in other frames. Quick mode uses the tiny parity model.
"""),
    code("""
import { DEFAULT_VIDEO_SETTINGS, QUICK_VIDEO_SETTINGS, runVideoExperiments } from "../analysis/experiment_video.ts";
import { videoMarkdown } from "../analysis/experiment_video_report.ts";

const videoDir = QUICK ? await Deno.makeTempDir({ prefix: "parlab-nb03-video-" }) : "../results/experiments/video";
const video = await runVideoExperiments({
  ...(QUICK ? QUICK_VIDEO_SETTINGS : DEFAULT_VIDEO_SETTINGS), outDir: videoDir, progress: false, log: () => {},
});
showMarkdown(videoMarkdown(video, videoDir));
"""),
    code("""
// The first clip of each motion class per configuration, frames left to right, and the same
// clips playing (a WebP animation).
import { loadPatchTokenizer, loadTokenFile } from "../src/data/mod.ts";
import { showClips } from "../src/viz/mod.ts";

for (const row of video.rows) {
  if (!row.strips) continue;
  console.log(`${row.spec.label} (${row.model.name}, ${row.steps} steps)`);
  showPng(await Deno.readFile(`${videoDir}/${row.spec.id}/${row.strips}`));
}
const scored = video.rows.filter((r) => r.strips);
if (scored.length > 0) {
  const tokenizer = await loadPatchTokenizer("../fixtures/emoji16");
  for (const row of scored) {
    const clips = await loadTokenFile(`${videoDir}/${row.spec.id}/tokens.npy`, { vocabSize: tokenizer.vocabSize });
    const per = video.settings.perClass;
    const firsts = Array.from({ length: clips.n / per }, (_, c) => c * per);
    const cells = clips.frames * clips.height * clips.width;
    const tokens = new Uint16Array(firsts.length * cells);
    firsts.forEach((r, i) => tokens.set(clips.tokens.subarray(r * cells, (r + 1) * cells), i * cells));
    await showClips(tokenizer.decodeSync({ ...clips, n: firsts.length, tokens }), { cols: firsts.length, scale: 4, gap: 2, fps: 4 });
  }
}
"""),
    code("""
if (video.probe) showPng(await Deno.readFile(`${videoDir}/${video.probe.figure}`));
"""),
]


def main(names):
    for name in names or NOTEBOOKS:
        path = HERE / f"{name}.ipynb"
        path.write_text(json.dumps(notebook(with_ids(name, NOTEBOOKS[name])), indent=1) + "\n")
        print(path)


if __name__ == "__main__":
    main(sys.argv[1:])
