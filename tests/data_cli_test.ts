/**
 * `deno task data` flag errors: one line naming the flag, exit 1, before any build work.
 */
import { assert, assertEquals } from "./assert.ts";
import { denoRun } from "./deno_run.ts";

const cli = new URL("../main/data.ts", import.meta.url).pathname;

Deno.test("data CLI: bad flags fail with one line naming the flag", async () => {
  for (
    const [args, flag] of [
      [["--k", "1"], "--k"],
      [["--k", "70000"], "--k"],
      [["--samples", "many"], "--samples"],
      [["--max-emoji", "0"], "--max-emoji"],
      [["--bogus"], "--bogus"],
    ] as const
  ) {
    const r = await denoRun([cli, ...args, "--out", "/nonexistent/never-written"]);
    assertEquals(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assertEquals(lines.length, 1, r.stderr);
    assert(lines[0].startsWith("data: ") && lines[0].includes(flag), r.stderr);
    assert(lines[0].includes("Usage: deno task data"), r.stderr);
  }
});
