/**
 * Schedules as data: which cells are sampled at which step, how the slots of a step attend to
 * each other, and how many transition slots (PAR's learnable tokens) the sequence uses.
 *
 * A schedule is consumed by the sampler (to build inputs, positions and masks), by the training
 * recipe in python/ (through its JSON form), by the entropy probes and by the visualizers.
 * @module
 */
import { z } from "../deps/zod.ts";
import { ConfigError } from "../util/errors.ts";
import { cellCount, type Grid, GridSchema } from "../media/grid.ts";

/** Attention among the slots fed in one step: all see all (`full`) or each sees earlier ones. */
export type StepAttention = "full" | "causal";

/** One decoding step: the cells sampled together and the attention among this step's slots. */
export interface Step {
  /** Flat cell indices sampled in this step, in slot order. */
  cells: number[];
  /** Attention among the input slots fed in this step (irrelevant for a single slot). */
  attention: StepAttention;
}

/** Region partition of a region-aligned schedule (PAR): M x M regions, for drawing borders. */
export interface Regions {
  /** Regions per column of the grid (M). */
  rows: number;
  /** Regions per row of the grid (M). */
  cols: number;
}

/** A generation schedule on a grid: an order of all cells cut into steps. */
export interface Schedule {
  /** JSON format version. */
  version: 1;
  /** Short name, e.g. `raster`, `par-m2`, `raster-groups-4`. */
  name: string;
  /** The token grid. */
  grid: Grid;
  /**
   * Transition slots the sequence uses in all (PAR: n-1, raster: 0). They are placed wherever a
   * step needs more query slots than the previous step sampled (see {@link stepSlots}).
   */
  transitionSlots: number;
  /** The steps, in order; together they cover every cell exactly once. */
  steps: Step[];
  /** Region partition, when the schedule is region-aligned (drawn by the visualizer). */
  regions?: Regions;
}

/** Zod schema of a schedule's JSON form. Structural checks only; see {@link validateSchedule}. */
export const ScheduleSchema = z.object({
  version: z.literal(1),
  name: z.string().min(1),
  grid: GridSchema,
  transitionSlots: z.number().int().min(0),
  steps: z.array(z.object({
    cells: z.array(z.number().int().min(0)).min(1),
    attention: z.enum(["full", "causal"]),
  })).min(1),
  regions: z.object({ rows: z.number().int().positive(), cols: z.number().int().positive() })
    .optional(),
});

/** Kind of an input slot in the model's sequence. */
export type SlotKind = "class" | "cell" | "transition";

/** One input slot of a step: what token it holds and where it sits. */
export interface Slot {
  /** Class token, a previously sampled cell's token, or a transition token. */
  kind: SlotKind;
  /** For `cell`: the flat cell index whose token fills the slot (and its position); else -1. */
  cell: number;
  /** For `transition`: the 1-based transition token number; else 0. */
  transition: number;
}

/**
 * Transition slots a list of step sizes implies: wherever a step samples more cells than the
 * previous step fed in (the class slot counts as one), the shortfall is filled with transition
 * slots. PAR m=2: 1,1,1,1,4,4,... -> 3.
 */
export function impliedTransitionSlots(stepSizes: readonly number[]): number {
  let prev = 1;
  let total = 0;
  for (const size of stepSizes) {
    if (size > prev) total += size - prev;
    prev = size;
  }
  return total;
}

/**
 * The input slots of every step, the one layout training and sampling share.
 *
 * Step 0 feeds the class slot; step s > 0 feeds the cells of step s-1 in order; when step s
 * samples more cells than that, transition slots T1, T2, ... (numbered across the sequence) are
 * appended. Output of slot i predicts `steps[s].cells[i]`; surplus slots predict nothing.
 * @example
 * const slots = stepSlots(par(makeGrid(24, 24), { m: 2 }));
 * slots[4].map((s) => s.kind); // ["cell", "transition", "transition", "transition"]
 */
export function stepSlots(schedule: Schedule): Slot[][] {
  const out: Slot[][] = [];
  let transition = 0;
  schedule.steps.forEach((step, s) => {
    const slots: Slot[] = s === 0
      ? [{ kind: "class", cell: -1, transition: 0 }]
      : schedule.steps[s - 1].cells.map((cell) => ({ kind: "cell", cell, transition: 0 }));
    while (slots.length < step.cells.length) {
      transition++;
      slots.push({ kind: "transition", cell: -1, transition });
    }
    out.push(slots);
  });
  return out;
}

/** The flattened generation order: every cell once, step by step. */
export function scheduleOrder(schedule: Schedule): number[] {
  return schedule.steps.flatMap((s) => s.cells);
}

/** For every cell, the 0-based step that samples it. */
export function stepOfCell(schedule: Schedule): Int32Array {
  const out = new Int32Array(cellCount(schedule.grid)).fill(-1);
  schedule.steps.forEach((step, s) => {
    for (const c of step.cells) out[c] = s;
  });
  return out;
}

/**
 * Check the invariants a schedule must hold, throwing a {@link ConfigError} that names the
 * field: every cell of the grid exactly once, cells inside the grid, and `transitionSlots` equal
 * to what the step sizes imply.
 */
export function validateSchedule(schedule: Schedule): Schedule {
  const n = cellCount(schedule.grid);
  const seen = new Int32Array(n).fill(-1);
  schedule.steps.forEach((step, s) => {
    if (step.cells.length === 0) {
      throw new ConfigError(`steps[${s}].cells`, "is empty", "give every step at least one cell");
    }
    for (const c of step.cells) {
      if (!Number.isInteger(c) || c < 0 || c >= n) {
        throw new ConfigError(
          `steps[${s}].cells`,
          `cell ${c} is outside the ${describeGrid(schedule.grid)} grid (cells 0..${n - 1})`,
          "use flat indices frame*H*W + row*W + col",
        );
      }
      if (seen[c] >= 0) {
        throw new ConfigError(
          `steps[${s}].cells`,
          `cell ${c} repeats (already sampled at step ${seen[c]})`,
          "list every cell exactly once",
        );
      }
      seen[c] = s;
    }
  });
  const missing: number[] = [];
  for (let c = 0; c < n && missing.length < 5; c++) if (seen[c] < 0) missing.push(c);
  if (missing.length > 0) {
    throw new ConfigError(
      "steps",
      `cells ${missing.join(", ")}${missing.length === 5 ? ", ..." : ""} are never sampled`,
      "list every cell of the grid exactly once",
    );
  }
  const implied = impliedTransitionSlots(schedule.steps.map((s) => s.cells.length));
  if (schedule.transitionSlots !== implied) {
    throw new ConfigError(
      "transitionSlots",
      `is ${schedule.transitionSlots} but the step sizes need ${implied}`,
      `set it to ${implied}`,
    );
  }
  return schedule;
}

/** Serialise a schedule to JSON text (stable key order). */
export function scheduleToJSON(schedule: Schedule, indent?: number): string {
  const { version, name, grid, transitionSlots, steps, regions } = schedule;
  const plain = {
    version,
    name,
    grid: { frames: grid.frames, height: grid.height, width: grid.width },
    transitionSlots,
    ...(regions ? { regions: { rows: regions.rows, cols: regions.cols } } : {}),
    steps: steps.map((s) => ({ cells: [...s.cells], attention: s.attention })),
  };
  return JSON.stringify(plain, null, indent);
}

/**
 * Parse and validate a schedule from JSON text or an already parsed object.
 * Throws a {@link ConfigError} naming the first bad field.
 */
export function scheduleFromJSON(json: string | unknown): Schedule {
  let value: unknown = json;
  if (typeof json === "string") {
    try {
      value = JSON.parse(json);
    } catch (err) {
      throw new ConfigError(
        "schedule",
        `is not valid JSON (${(err as Error).message})`,
        "fix the file",
      );
    }
  }
  const parsed = ScheduleSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.length ? issue.path.map(String).join(".") : "schedule";
    throw new ConfigError(field, issue.message, "write it as scheduleToJSON does");
  }
  return validateSchedule(parsed.data as Schedule);
}

/** "24x24" or "5x16x16". */
export function describeGrid(grid: Grid): string {
  return grid.frames === 1
    ? `${grid.height}x${grid.width}`
    : `${grid.frames}x${grid.height}x${grid.width}`;
}
