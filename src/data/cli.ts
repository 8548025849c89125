/**
 * `deno task data`: rebuild fixtures/emoji/ from the npm emoji packages (and
 * out/data/reconstructions.png). `--check` rebuilds into a temporary folder and compares every
 * file byte for byte with the committed ones instead of overwriting them.
 *
 * Flags: --out DIR (fixtures/emoji), --pictures DIR (out/data), --k N, --samples N,
 * --iterations N, --seed N, --max-emoji N, --check, --quiet.
 * @module
 */
import { parseArgs } from "node:util";
import { z } from "../deps.ts";
import { buildEmojiFixtures, EMOJI_FIXTURE_FILES } from "./build_emoji.ts";

const Int = (name: string, min: number) =>
  z.coerce.number({ error: `--${name} must be a number` }).int(`--${name} must be an integer`).min(
    min,
    `--${name} must be at least ${min}`,
  );

const Flags = z.object({
  out: z.string().min(1).default("fixtures/emoji"),
  pictures: z.string().min(1).default("out/data"),
  k: Int("k", 2).max(65536, "--k must be at most 65536 (uint16 tokens)").default(1024),
  samples: Int("samples", 1).default(200_000),
  iterations: Int("iterations", 0).default(20),
  seed: Int("seed", 0).default(0),
  "max-emoji": Int("max-emoji", 1).optional(),
  check: z.boolean().default(false),
  quiet: z.boolean().default(false),
});

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: "string" },
      pictures: { type: "string" },
      k: { type: "string" },
      samples: { type: "string" },
      iterations: { type: "string" },
      seed: { type: "string" },
      "max-emoji": { type: "string" },
      check: { type: "boolean" },
      quiet: { type: "boolean" },
    },
    strict: true,
  });
  const parsed = Flags.safeParse(values);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join("; "));
  const f = parsed.data;
  const started = performance.now();
  const outDir = f.check ? await Deno.makeTempDir({ prefix: "parlab-emoji-check-" }) : f.out;
  const log = f.quiet ? undefined : (line: string) => {
    console.log(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${line}`);
  };
  try {
    const manifest = await buildEmojiFixtures({
      outDir,
      picturesDir: f.check ? null : f.pictures,
      k: f.k,
      samplePatches: f.samples,
      iterations: f.iterations,
      seed: f.seed,
      maxEmoji: f["max-emoji"],
      log,
    });
    console.log(
      `val PSNR ${
        manifest.psnrVal.toFixed(2)
      } dB; train ${manifest.counts.train.total}, val ${manifest.counts.val.total} pictures; ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );
    if (!f.check) return 0;
    const differing: string[] = [];
    for (const name of EMOJI_FIXTURE_FILES) {
      const a = await Deno.readFile(`${outDir}/${name}`);
      const b = await Deno.readFile(`${f.out}/${name}`).catch(() => null);
      if (!b || a.length !== b.length || a.some((v, i) => v !== b[i])) differing.push(name);
    }
    if (differing.length > 0) {
      console.error(`rebuild differs from ${f.out}: ${differing.join(", ")}`);
      return 1;
    }
    console.log(`rebuild is byte-identical to ${f.out} (${EMOJI_FIXTURE_FILES.length} files)`);
    return 0;
  } finally {
    if (f.check) await Deno.remove(outDir, { recursive: true });
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    Deno.exit(1);
  }
}
