/**
 * parlab: a toolkit for parallelized autoregressive visual generation (PAR).
 *
 * This top-level module is the everyday surface: grids and schedules, loading a model and its
 * tokenizer, sampling and teacher forcing, and the figures that show them. Everything else has
 * its own subpath, each importing only what it uses (native packages load on first use):
 *
 * | subpath | what |
 * | --- | --- |
 * | `parlab/media` | grids (`F x H x W`), picture and token-grid batches with frames |
 * | `parlab/schedule` | schedules as data: raster, PAR, raster groups, ablations, registry |
 * | `parlab/tokenizer` | pictures <-> tokens: the interface, patch k-means |
 * | `parlab/runtime` | the backend table, ONNX sessions, verified file loading |
 * | `parlab/model` | AR step models on every backend, manifests |
 * | `parlab/sampler` | sampling and teacher forcing under any schedule |
 * | `parlab/entropy` | dependency probes: entropy maps, MI, schedule cost, increase maps |
 * | `parlab/metrics` | Fréchet, KID, class consistency, token-pair divergence |
 * | `parlab/viz` | figures: schedules, entropy maps, mosaics; SVG/PNG; notebook display |
 * | `parlab/data` | the emoji token fixtures and their builder |
 * | `parlab/io` | `.npy` files, gzip, hashes, ndarray views |
 * | `parlab/util` | seeded randomness, atomic writes, flags, user errors |
 *
 * @example
 * import { loadModel, makeGrid, par, sample } from "parlab";
 * const model = await loadModel("fixtures/models/emoji-par4.json");
 * const out = await sample(model, { schedule: par(makeGrid(24, 24), { m: 2 }), classes: [0], seed: 1 });
 * @module
 */
export { type Grid, makeGrid } from "./src/media/grid.ts";
export type { ImageBatch, TokenGrids, TokenGridsLike } from "./src/media/batches.ts";
export {
  par,
  parWithoutInitial,
  raster,
  rasterGroups,
  type Schedule,
  scheduleByName,
  scheduleFromJSON,
  scheduleToJSON,
  stepSlots,
} from "./src/schedule/mod.ts";
export {
  type ARModel,
  loadModel,
  loadModelTokenizer,
  loadOnnxModel,
  type ModelManifest,
} from "./src/model/mod.ts";
export {
  sample,
  sampleMany,
  type SampleOptions,
  type SampleResult,
  teacherForce,
  type TeacherForceResult,
} from "./src/sampler/mod.ts";
export {
  displayFigure,
  type Figure,
  saveFigure,
  scheduleFigure,
  stepsOverTimeFigure,
  tokensToMosaic,
} from "./src/viz/mod.ts";
export { ConfigError, ManifestError, UsageError } from "./src/util/errors.ts";
