/**
 * `deno task data` flag errors: one line naming the flag, exit 1, before any build work.
 */
import { expectFlagErrors } from "./deno_run.ts";

const cli = new URL("../main/data.ts", import.meta.url).pathname;

Deno.test("data CLI: bad flags fail with one line naming the flag", async () => {
  await expectFlagErrors(
    cli,
    "data",
    [
      [["--k", "1"], "--k"],
      [["--k", "70000"], "--k"],
      [["--samples", "many"], "--samples"],
      [["--max-emoji", "0"], "--max-emoji"],
      [["--bogus"], "--bogus"],
    ],
  );
});
