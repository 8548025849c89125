/**
 * The npm versions in src/deps/ (used by URL importers) must equal deno.json's import map (used
 * by tests, tasks and notebooks), src/ must not use bare specifiers, and the native packages
 * must not load when a user only builds schedules.
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

Deno.test("src/deps/ pins the same versions as deno.json", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  let pinned = 0;
  for await (const file of walk(new URL("src/deps/", root))) {
    const deps = await Deno.readTextFile(file);
    for (const [, name, version] of deps.matchAll(/"npm:((?:@[^/"]+\/)?[^@"]+)@([^"/]+)/g)) {
      const mapped = config.imports[name];
      assert(mapped, `deno.json imports lacks ${name}`);
      assertEquals(mapped, `npm:${name}@${version}`, `${name}: deno.json and ${file} differ`);
      pinned++;
    }
  }
  assert(pinned > 0, "no npm specifiers found in src/deps/");
});

Deno.test("src/ uses no bare specifiers and no npm: outside src/deps/", async () => {
  const bad: string[] = [];
  for await (const file of walk(new URL("src/", root))) {
    const text = await Deno.readTextFile(file);
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^"']*?from\s*["']([^"']+)["']/g)) {
      const spec = m[1];
      const rel = file.pathname.slice(root.pathname.length);
      if (spec.startsWith("npm:") && !rel.startsWith("src/deps/")) bad.push(`${rel}: ${spec}`);
      else if (!/^(\.|npm:|node:)/.test(spec)) bad.push(`${rel}: ${spec}`);
    }
  }
  assertEquals(bad, []);
});

/** Run a script with read permission only (`deno eval` would grant everything). */
async function runReadOnly(code: string): Promise<Deno.CommandOutput> {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, code);
    return await new Deno.Command(Deno.execPath(), {
      args: ["run", "-q", "--no-prompt", "--no-lock", "--allow-read", file],
      cwd: root.pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("building a schedule through mod.ts needs no ffi, env or sys permission", async () => {
  // A child with read permission only: sharp and onnxruntime must not load at import.
  const code = `const m = await import(${JSON.stringify(new URL("mod.ts", root).href)});
    const s = m.par(m.makeGrid(24, 24), { m: 2 });
    console.log(s.steps.length);`;
  const out = await runReadOnly(code);
  const text = new TextDecoder().decode(out.stdout).trim();
  assertEquals(
    { code: out.code, text, stderr: new TextDecoder().decode(out.stderr) },
    { code: 0, text: "147", stderr: "" },
  );
});

Deno.test("a missing permission for sharp is one parlab message naming the flags", async () => {
  const code = `const v = await import(${JSON.stringify(new URL("src/viz/mod.ts", root).href)});
    try { await v.svgToPng("<svg xmlns='http://www.w3.org/2000/svg' width='2' height='2'/>"); }
    catch (e) { console.log((e as Error).name + ": " + (e as Error).message); }`;
  const out = await runReadOnly(code);
  const text = new TextDecoder().decode(out.stdout).trim();
  assert(text.startsWith("PermissionError: sharp (image encoding) could not load"), text);
  assert(text.includes("--allow-ffi"), text);
});
