/**
 * `deno task analyze` flag errors: one line naming the flag and the fix, exit 1, before any work.
 */
import { assert, assertEquals } from "./assert.ts";
import { denoRun } from "./deno_run.ts";

const cli = new URL("../main/analyze.ts", import.meta.url).pathname;

const run = (args: string[]) => denoRun([cli, ...args]);

Deno.test("analyze CLI: bad flags fail with one line naming the flag", async () => {
  for (
    const [args, flag] of [
      [["--backend", "tpu"], "--backend"],
      [["--per-class", "0"], "--per-class"],
      [["--configs", "par4,bogus"], "--configs"],
      [["--seed", "x"], "--seed"],
    ] as const
  ) {
    const r = await run([...args]);
    assertEquals(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assertEquals(lines.length, 1, r.stderr);
    assert(lines[0].startsWith(`analyze: ${flag}`), r.stderr);
  }
});

Deno.test("analyze CLI: an unknown configuration's message lists the decoder configurations", async () => {
  const r = await run(["--configs", "zipar16"]);
  assertEquals(r.code, 1, r.stderr);
  for (const id of ["zipar2", "zipar8", "zipar-adaptive", "sjd4", "sjd15"]) {
    assert(r.stderr.includes(id), r.stderr);
  }
});
