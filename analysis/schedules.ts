/**
 * Model-free statistics of schedules, shared by `deno task analyze` and the notebooks: steps,
 * parallelism, transition slots, and how often cells sampled in the same step touch each other
 * (the local dependency that independent sampling inside a step ignores; PAR keeps it at zero).
 * @module
 */
import { cellCoords } from "../src/media/mod.ts";
import type { Schedule } from "../src/schedule/mod.ts";

/** One row of the schedule table. */
export interface ScheduleStats {
  /** Schedule name. */
  name: string;
  /** Number of decoding steps. */
  steps: number;
  /** Cells per step at most. */
  maxParallel: number;
  /** Step-count ratio against one token a step: the speed-up limit at equal per-step cost. */
  stepRatio: number;
  /** Transition slots the sequence uses. */
  transitionSlots: number;
  /** Pairs of cells sampled in the same step that are 8-neighbours (same frame). */
  adjacentPairsInSteps: number;
  /** Mean Chebyshev distance between cells sampled in the same step (NaN when none share). */
  meanDistanceInSteps: number;
}

/** Compute {@link ScheduleStats} for a schedule. */
export function scheduleStats(schedule: Schedule): ScheduleStats {
  let adjacent = 0;
  let pairs = 0;
  let distance = 0;
  for (const step of schedule.steps) {
    const coords = step.cells.map((c) => cellCoords(schedule.grid, c));
    for (let i = 0; i < coords.length; i++) {
      for (let j = i + 1; j < coords.length; j++) {
        const a = coords[i];
        const b = coords[j];
        const d = Math.max(Math.abs(a.row - b.row), Math.abs(a.col - b.col));
        pairs++;
        distance += d;
        if (a.frame === b.frame && d === 1) adjacent++;
      }
    }
  }
  const cells = schedule.steps.reduce((n, s) => n + s.cells.length, 0);
  return {
    name: schedule.name,
    steps: schedule.steps.length,
    maxParallel: Math.max(...schedule.steps.map((s) => s.cells.length)),
    stepRatio: cells / schedule.steps.length,
    transitionSlots: schedule.transitionSlots,
    adjacentPairsInSteps: adjacent,
    meanDistanceInSteps: pairs ? distance / pairs : NaN,
  };
}
