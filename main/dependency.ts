/**
 * `deno task dependency [--out DIR] [--split train|val] [--workers N] [--models base.json,...]`:
 * the model-free dependency analysis of the emoji fixture (analysis/dependency.ts), and with
 * `--models` the model-based entropy increase maps (teacher-forced on val; the first model is
 * the sequential base).
 * @module
 */
import { z } from "../src/deps/zod.ts";
import { numberFlag, parseFlags, runMain } from "../src/util/cli.ts";
import { UsageError } from "../src/util/errors.ts";
import { EntropyInputError } from "../src/entropy/tokens.ts";
import { runFixtureDependencyAnalysis } from "../analysis/dependency.ts";

const USAGE = "Usage: deno task dependency [--out DIR] [--split train|val] [--workers N] " +
  "[--models base.json,other.json,...]";

if (import.meta.main) {
  await runMain("dependency", async () => {
    const flags = parseFlags(
      Deno.args,
      z.object({
        out: z.string().min(1).default("results/dependency"),
        split: z.enum(["train", "val"]).default("train"),
        workers: numberFlag().pipe(z.number().int().min(0).max(64)).optional(),
        models: z.string().min(1).optional(),
      }),
      [],
      USAGE,
    );
    try {
      const models = flags.models?.split(",").map((m) => m.trim()).filter((m) => m !== "");
      if (models && models.length < 2) {
        throw new UsageError(
          "--models: name a sequential base and at least one model to compare, comma-separated",
        );
      }
      const s = await runFixtureDependencyAnalysis(flags.out, {
        split: flags.split,
        workers: flags.workers,
        models,
      });
      const costs = Object.entries(s.scheduleCosts)
        .map(([name, c]) => `${name} ${c.total.toFixed(0)}`)
        .join(", ");
      console.log(
        `dependency: ${s.samples} grids, ${s.seconds.total} s; within-step MI (bits): ${costs}\n` +
          (s.increase
            ? `model-based mean increase (bits): ${
              s.increase.map((i) => `${i.label} ${i.quantity} ${i.meanIncreaseBits.toFixed(3)}`)
                .join(", ")
            }\n`
            : "") +
          `figures and dependency.json in ${flags.out}`,
      );
    } catch (err) {
      // Bad token data or options: one line, no stack (other errors are bugs and keep theirs).
      if (err instanceof EntropyInputError) throw new UsageError(err.message);
      throw err;
    }
  });
}
