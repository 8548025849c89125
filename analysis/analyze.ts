/**
 * `deno task analyze`: runs the analyses headless and writes a self-contained Markdown report
 * with figures plus a JSON of every number into a results folder (default `results/`).
 *
 * Flags: `--out DIR` (results folder).
 * @module
 */
import {
  makeGrid,
  par,
  parWithoutInitial,
  randomGroups,
  raster,
  rasterGroups,
  saveFigure,
  scheduleFigure,
  stepsOverTimeFigure,
  writeFileAtomic,
  z,
} from "./deps.ts";
import { scheduleStats } from "./schedules.ts";

const FlagsSchema = z.object({ out: z.string().min(1).default("results") });

function parseFlags(args: string[]): z.infer<typeof FlagsSchema> {
  const raw: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(args[i]);
    if (!m) throw new Error(`unknown argument "${args[i]}". Fix: use --out DIR`);
    const value = m[2] ?? args[++i];
    if (value === undefined) {
      throw new Error(`--${m[1]} needs a value. Fix: e.g. --${m[1]} results`);
    }
    raw[m[1]] = value;
  }
  const parsed = FlagsSchema.strict().safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `--${issue.path.join(".") || "flags"}: ${issue.message}. Fix: run with --out DIR`,
    );
  }
  return parsed.data;
}

async function main(): Promise<void> {
  const flags = parseFlags(Deno.args);
  const image = makeGrid(24, 24);
  const schedules = [
    raster(image),
    par(image, { m: 2 }),
    par(image, { m: 4 }),
    rasterGroups(image, { n: 4 }),
    par(image, { m: 2, attention: "causal" }),
    parWithoutInitial(image, { m: 2 }),
    randomGroups(image, { n: 4, seed: 0 }),
  ];
  const stats = schedules.map(scheduleStats);
  const figDir = `${flags.out}/figures`;
  await saveFigure(stepsOverTimeFigure(schedules.slice(0, 4)), `${figDir}/steps_over_time`);
  await saveFigure(scheduleFigure(schedules[1], { colorBy: "region" }), `${figDir}/order_par4`);
  const lines = [
    "# parlab analysis report",
    "",
    "## Schedules on the 24x24 grid",
    "",
    "| schedule | steps | max parallel | step ratio | transition slots | adjacent pairs in a step | mean distance in a step |",
    "|---|---|---|---|---|---|---|",
    ...stats.map((s) =>
      `| ${s.name} | ${s.steps} | ${s.maxParallel} | ${
        s.stepRatio.toFixed(2)
      }x | ${s.transitionSlots} | ${s.adjacentPairsInSteps} | ${
        Number.isNaN(s.meanDistanceInSteps) ? "-" : s.meanDistanceInSteps.toFixed(2)
      } |`
    ),
    "",
    "![tokens against steps](figures/steps_over_time.png)",
    "",
    "![PAR-4x order](figures/order_par4.png)",
    "",
  ];
  await writeFileAtomic(`${flags.out}/report.md`, lines.join("\n"));
  await writeFileAtomic(`${flags.out}/results.json`, JSON.stringify({ schedules: stats }, null, 2));
  console.log(`report: ${flags.out}/report.md\nnumbers: ${flags.out}/results.json`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    console.error(`analyze failed: ${(err as Error).message}`);
    Deno.exit(1);
  }
}
