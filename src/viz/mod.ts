/**
 * Figures: rendering plumbing (Plot -> SVG -> PNG), SVG composition, inline notebook display,
 * and the visualizers of orderings, entropy probes and token mosaics.
 * @module
 */
export {
  type Figure,
  hstack,
  type HstackOptions,
  labelledRowsFigure,
  type PictureRow,
  svgDocument,
  vstack,
} from "./compose.ts";
export { plotFigure, type PlotOptions, saveFigure, svgToPng } from "./render.ts";
export {
  animationHtml,
  displayFigure,
  showAnimation,
  showClips,
  showFigure,
  showMarkdown,
  showPng,
} from "./notebook.ts";
export {
  ANIMATION_FORMATS,
  type AnimationFormat,
  animationMime,
  type AnimationOptions,
  clipStrips,
  encodeAnimation,
  labelColumn,
  type StripOptions,
} from "./clips.ts";
export {
  scheduleFigure,
  type ScheduleFigureOptions,
  stepsOverTimeFigure,
  type StepsOverTimeOptions,
} from "./schedule_figures.ts";
export {
  imagesToMosaic,
  interleaveImages,
  mosaicImage,
  type MosaicOptions,
  rgbToPng,
  tokensToMosaic,
} from "./mosaic.ts";
export * from "./entropy_maps.ts";
export {
  type IterationFigureOptions,
  type IterationSeries,
  tokensPerIterationFigure,
} from "./decoding_figures.ts";
