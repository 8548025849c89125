/**
 * Figures: rendering plumbing (Plot -> SVG -> PNG, inline notebook display) and the ordering
 * visualizers.
 * @module
 */
export {
  displayFigure,
  type Figure,
  plotFigure,
  type PlotOptions,
  saveFigure,
  svgToPng,
} from "./render.ts";
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
