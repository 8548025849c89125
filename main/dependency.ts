/**
 * `deno task dependency [--out DIR] [--split train|val] [--workers N] [--models base.json,...]`:
 * the model-free dependency analysis of the emoji fixture (analysis/dependency.ts), and with
 * `--models` the model-based entropy increase maps (teacher-forced on val; the first model is
 * the sequential base).
 *
 * `--tokens DIR` analyses a token folder written by `deno task tokenize` instead of the fixture
 * (per class when it has several; coarse-grained when its tokenizer provides a codebook, else
 * that pass is skipped with a note).
 * @module
 */
import { z } from "../src/deps/zod.ts";
import { flagError, numberFlag, parseFlags, runMain } from "../src/util/cli.ts";
import { loadTokenSet } from "../src/data/token_files.ts";
import { UsageError } from "../src/util/errors.ts";
import { EntropyInputError } from "../src/entropy/tokens.ts";
import {
  type DependencyAnalysisSummary,
  runFixtureDependencyAnalysis,
  runTokenFolderDependencyAnalysis,
} from "../analysis/dependency.ts";

const USAGE = "Usage: deno task dependency [--out DIR] [--split train|val] [--workers N] " +
  "[--models base.json,other.json,...] [--tokens DIR]";

if (import.meta.main) {
  await runMain("dependency", async () => {
    const flags = parseFlags(
      Deno.args,
      z.object({
        out: z.string().min(1).default("results/dependency"),
        split: z.enum(["train", "val"]).optional(),
        workers: numberFlag().pipe(z.number().int().min(0).max(64)).optional(),
        models: z.string().min(1).optional(),
        tokens: z.string().min(1, "is empty (an unset shell variable?)").optional(),
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
      if (flags.tokens && (flags.split || models)) {
        throw new UsageError(
          `--${flags.split ? "split" : "models"}: applies to the emoji fixture only, not to ` +
            `--tokens (a token folder is analysed whole${
              models ? "; the model-based maps teacher-force the fixture's val split" : ""
            }). Fix: drop --${flags.split ? "split" : "models"} or --tokens`,
        );
      }
      let s: DependencyAnalysisSummary;
      if (flags.tokens) {
        const dir = flags.tokens;
        const set = await flagError("--tokens", () => loadTokenSet(dir));
        const t = await runTokenFolderDependencyAnalysis(set, flags.out, {
          workers: flags.workers,
        });
        for (const note of t.notes) console.log(`note: ${note}`);
        s = t;
      } else {
        s = await runFixtureDependencyAnalysis(flags.out, {
          split: flags.split ?? "train",
          workers: flags.workers,
          models,
        });
      }
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
