/**
 * Generation schedules: orders cut into steps, the model slot layout, and builders for
 * raster, PAR, naive raster groups and the ablations.
 * @module
 */
// The grid every builder takes lives in media/; re-exported so one import builds a schedule.
export { type Grid, makeGrid } from "../media/grid.ts";
export {
  describeGrid,
  impliedTransitionSlots,
  type Regions,
  type Schedule,
  scheduleFromJSON,
  scheduleOrder,
  ScheduleSchema,
  scheduleToJSON,
  type Slot,
  type SlotKind,
  type Step,
  type StepAttention,
  stepOfCell,
  stepSlots,
  validateSchedule,
} from "./schedule.ts";
export {
  custom,
  par,
  type ParOptions,
  parWithoutInitial,
  randomGroups,
  type RandomGroupsOptions,
  raster,
  rasterGroups,
  type RasterGroupsOptions,
  regionOrder,
} from "./builders.ts";
export {
  registerScheduleFamily,
  scheduleByName,
  scheduleFamilies,
  type ScheduleFamily,
  scheduleNameExamples,
} from "./registry.ts";
export { checkZipARWindow, rasterRows, zipar, type ZipARScheduleOptions } from "./zipar.ts";
