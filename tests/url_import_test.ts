/**
 * Users import mod.ts by URL, where deno.json's import map does not apply. Serve this
 * repository over HTTP on 127.0.0.1, import mod.ts from that URL in a fresh Deno process that has
 * no config (like a user's script elsewhere), and build a schedule through it.
 */
import { assertEquals } from "./assert.ts";
import { importByUrl } from "./deno_run.ts";

Deno.test("mod.ts imports by URL and builds a schedule", async () => {
  const result = await importByUrl(
    "mod.ts",
    `const s = m.par(m.makeGrid(24, 24), { m: 2 });
     console.log(JSON.stringify({ steps: s.steps.length, name: s.name }));`,
  );
  assertEquals(result, { steps: 147, name: "par4" });
});
