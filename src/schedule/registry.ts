/**
 * The schedule registry: configuration names (`raster`, `par4`, `par16-causal`, ...) mapped to
 * builders. The CLIs, the experiments, model manifests and the training recipe (which takes a
 * schedule JSON file, so it needs no Python twin) all resolve names here; a new family of
 * schedules is one {@link registerScheduleFamily} call.
 * @module
 */
import { ConfigError } from "../util/errors.ts";
import type { Grid } from "../media/grid.ts";
import type { Schedule } from "./schedule.ts";
import { par, parWithoutInitial, randomGroups, raster, rasterGroups } from "./builders.ts";
import { zipar } from "./zipar.ts";

/** A family of schedules that share a name pattern. */
export interface ScheduleFamily {
  /** Family name, e.g. `par`. */
  name: string;
  /** Names this family builds; the match is passed to `build`. */
  pattern: RegExp;
  /** Example names, shown in errors and usage lines. */
  examples: string[];
  /** One line on what the family is. */
  description: string;
  /** Build the schedule for a matching name on a grid. */
  build(grid: Grid, match: RegExpExecArray): Schedule;
}

const attentionOf = (suffix: string | undefined) => suffix === "causal" ? "causal" : "full";

function squareSide(n: number): number {
  const m = Math.round(Math.sqrt(n));
  if (m * m !== n) {
    throw new ConfigError(
      "schedule",
      `par needs a square number of parallel tokens, got ${n}`,
      "use par4 or par16",
    );
  }
  return m;
}

const families: ScheduleFamily[] = [
  {
    name: "raster",
    pattern: /^raster$/,
    examples: ["raster"],
    description: "one token a step in raster order",
    build: (grid) => raster(grid),
  },
  {
    name: "par",
    pattern: /^par(\d+)(?:-(causal|noinit))?$/,
    examples: ["par4", "par16", "par4-causal", "par4-noinit"],
    description: "PAR with n = m*m parallel tokens (-causal: causal inside a group; " +
      "-noinit: without the initial sequential tokens)",
    build: (grid, [, num, suffix]) =>
      suffix === "noinit"
        ? parWithoutInitial(grid, { m: squareSide(Number(num)) })
        : par(grid, { m: squareSide(Number(num)), attention: attentionOf(suffix) }),
  },
  {
    name: "raster-groups",
    pattern: /^raster(\d+)(?:-(causal|noinit))?$/,
    examples: ["raster4"],
    description: "naive groups of n consecutive raster cells",
    build: (grid, [, num, suffix]) =>
      rasterGroups(grid, {
        n: Number(num),
        attention: attentionOf(suffix),
        initial: suffix !== "noinit",
      }),
  },
  {
    name: "random",
    pattern: /^random(\d+)(?:-s(\d+))?$/,
    examples: ["random4", "random4-s1"],
    description: "groups of n random cells (seeded)",
    build: (grid, [, num, seed]) => randomGroups(grid, { n: Number(num), seed: Number(seed ?? 0) }),
  },
  {
    name: "zipar",
    pattern: /^zipar(\d+)$/,
    examples: ["zipar8", "zipar4"],
    description: "ZipAR's wavefront with local window s (row r+1 starts once row r has s " +
      "tokens); the cells of each step, for figures and probes (sample it with sampleZipAR)",
    build: (grid, [, s]) => zipar(grid, { window: Number(s) }),
  },
];

/**
 * Add a family of named schedules (it is tried after the ones registered before it).
 * @example
 * registerScheduleFamily({
 *   name: "column", pattern: /^column$/, examples: ["column"], description: "column-major",
 *   build: (grid) => custom(grid, columnOrder(grid)),
 * });
 */
export function registerScheduleFamily(family: ScheduleFamily): void {
  if (families.some((f) => f.name === family.name)) {
    throw new ConfigError(
      "family.name",
      `a schedule family "${family.name}" is already registered`,
      "pick another name",
    );
  }
  families.push(family);
}

/** The registered families (built-in first). */
export function scheduleFamilies(): readonly ScheduleFamily[] {
  return families;
}

/** Example names of every family, e.g. for a usage line. */
export function scheduleNameExamples(): string[] {
  return families.flatMap((f) => f.examples);
}

/**
 * Build a schedule from its configuration name: `raster`, `par<n>` (n = m*m), `raster<n>`,
 * `par<n>-causal`, `par<n>-noinit`, `random<n>` (seed 0), `random<n>-s<seed>`, or any name of a
 * registered family.
 * @example
 * scheduleByName(makeGrid(24, 24), "par16").steps.length; // 51
 */
export function scheduleByName(grid: Grid, name: string): Schedule {
  for (const family of families) {
    const match = family.pattern.exec(name);
    if (match) return family.build(grid, match);
  }
  throw new ConfigError(
    "schedule",
    `unknown schedule name "${name}"`,
    `use one of ${scheduleNameExamples().join(", ")}`,
  );
}
