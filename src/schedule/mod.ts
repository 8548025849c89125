/**
 * Generation schedules: grids, orders cut into steps, the model slot layout, and builders for
 * raster, PAR, naive raster groups and the ablations.
 * @module
 */
export { ConfigError } from "./errors.ts";
export { cellCoords, cellCount, cellIndex, type Grid, GridSchema, makeGrid } from "./grid.ts";
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
  scheduleByName,
} from "./builders.ts";
