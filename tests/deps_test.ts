/**
 * The npm versions in src/deps.ts (used by URL importers) must equal deno.json's import map
 * (used by tests, tasks and notebooks), and src/ must not use bare specifiers.
 */
import { assert, assertEquals } from "./assert.ts";

const root = new URL("../", import.meta.url);

async function* walk(dir: URL): AsyncGenerator<URL> {
  for await (const e of Deno.readDir(dir)) {
    const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
    if (e.isDirectory) yield* walk(url);
    else if (e.name.endsWith(".ts")) yield url;
  }
}

Deno.test("src/deps.ts pins the same versions as deno.json", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const deps = await Deno.readTextFile(new URL("src/deps.ts", root));
  const pinned = [...deps.matchAll(/"npm:((?:@[^/"]+\/)?[^@"]+)@([^"/]+)/g)];
  assert(pinned.length > 0, "no npm specifiers found in src/deps.ts");
  for (const [, name, version] of pinned) {
    const mapped = config.imports[name];
    assert(mapped, `deno.json imports lacks ${name}`);
    assertEquals(mapped, `npm:${name}@${version}`, `${name}: deno.json and src/deps.ts differ`);
  }
});

Deno.test("src/ uses no bare specifiers and no npm: outside deps.ts", async () => {
  const bad: string[] = [];
  for await (const file of walk(new URL("src/", root))) {
    const text = await Deno.readTextFile(file);
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^"']*?from\s*["']([^"']+)["']/g)) {
      const spec = m[1];
      const rel = file.pathname.slice(root.pathname.length);
      if (spec.startsWith("npm:") && !rel.endsWith("src/deps.ts")) bad.push(`${rel}: ${spec}`);
      else if (!/^(\.|npm:|node:)/.test(spec)) bad.push(`${rel}: ${spec}`);
    }
  }
  assertEquals(bad, []);
});
