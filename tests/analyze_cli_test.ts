/**
 * `deno task analyze` flag errors: one line naming the flag and the fix, exit 1, before any work.
 */
import { assert, assertEquals } from "./assert.ts";

const cli = new URL("../analysis/analyze.ts", import.meta.url).pathname;

async function run(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

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
