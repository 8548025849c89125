/**
 * Least permissions: every `deno task` but `test` declares the Deno permissions it needs (no
 * `-A`; writes and ffi scoped to folders), the declared ones suffice (a remote model through
 * `deno task sample`), and a missing permission is one parlab line naming the flag to add:
 * reads and writes in src/io and src/util/atomic.ts, network reads, the native packages, and a
 * program run without `--allow-write`. Each case runs a child Deno with chosen flags.
 */
import { assert, assertEquals } from "./assert.ts";

const root = new URL("../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
const tasks = config.tasks as Record<string, string>;

/** Run `code` (a module importing the repository by absolute URL) with exactly `flags`. */
async function child(code: string, flags: string[]): Promise<{ code: number; out: string }> {
  const dir = await Deno.makeTempDir({ prefix: "parlab-perm-" });
  try {
    await Deno.writeTextFile(`${dir}/child.ts`, code);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-q",
        "--no-prompt",
        "--frozen",
        "--config",
        new URL("deno.json", root).pathname,
        ...flags,
        `${dir}/child.ts`,
      ],
      cwd: root.pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, out: (dec.decode(out.stdout) + dec.decode(out.stderr)).trim() };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A child body that awaits `expr` and prints the error's name and message (or "ok"). */
function catching(imports: string, expr: string): string {
  return `${imports}
try { await (${expr}); console.log("ok"); }
catch (e) { console.log((e as Error).name + ": " + (e as Error).message); }`;
}

const src = (path: string) => JSON.stringify(new URL(path, root).href);

/** Tasks that load models from URLs (the rest read local files only). */
const NET_TASKS = new Set(["sample", "fid"]);
/** Tasks that run one named program (the PyTorch reference beside parlab's sampler). */
const RUN_TASKS = new Set(["bench:torch"]);
/** Tasks that write wherever their flags say (reference statistics beside a reference batch). */
const ANY_WRITE_TASKS = new Set(["fid"]);

Deno.test("deno.json: tasks declare scoped permissions instead of -A (test keeps -A)", () => {
  const problems: string[] = [];
  for (const [name, line] of Object.entries(tasks)) {
    for (const cmd of line.split("&&").map((c) => c.trim())) {
      if (!/^deno (run|bench)\b/.test(cmd)) continue;
      if (name === "test") continue; // spawns children with various permissions
      const flags = cmd.split(/\s+/);
      if (flags.includes("-A") || flags.includes("--allow-all")) problems.push(`${name}: -A`);
      if (flags.includes("--allow-write") && !ANY_WRITE_TASKS.has(name)) {
        problems.push(`${name}: unscoped --allow-write`);
      }
      if (flags.includes("--allow-ffi")) problems.push(`${name}: unscoped --allow-ffi`);
      for (const f of flags.filter((f) => f.startsWith("--allow-run"))) {
        if (!RUN_TASKS.has(name) || !f.startsWith("--allow-run=")) problems.push(`${name}: ${f}`);
      }
      if (flags.some((f) => f.startsWith("--allow-net")) && !NET_TASKS.has(name)) {
        problems.push(`${name}: --allow-net (only ${[...NET_TASKS].join(", ")} load by URL)`);
      }
    }
  }
  assertEquals(problems, []);
  assert(tasks.test.includes("-A"), "the test task spawns children with various permissions");
});

Deno.test("a read without --allow-read is one line naming --allow-read and the file", async () => {
  const file = await Deno.makeTempFile();
  try {
    const r = await child(
      catching(
        `import { readBytes } from ${src("src/io/read.ts")};`,
        `readBytes(${JSON.stringify(file)})`,
      ),
      [],
    );
    assert(r.out.startsWith(`PermissionError: cannot read ${file}: `), r.out);
    assert(r.out.includes(`Fix: run deno with --allow-read=${file} (or --allow-read)`), r.out);
    // Through the model loader: the manifest read.
    const m = await child(
      catching(
        `import { loadOnnxModel } from ${src("src/model/mod.ts")};`,
        `loadOnnxModel(${JSON.stringify(`${file}.json`)})`,
      ),
      [],
    );
    assert(
      m.out.startsWith("PermissionError: cannot read") && m.out.includes("--allow-read="),
      m.out,
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("a write without --allow-write is one line naming --allow-write and the folder", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await child(
      catching(
        `import { writeFileAtomic } from ${src("src/util/atomic.ts")};`,
        `writeFileAtomic(${JSON.stringify(`${dir}/sub/x.txt`)}, "hi")`,
      ),
      ["--allow-read"],
    );
    assert(r.out.startsWith(`PermissionError: cannot write ${dir}/sub: `), r.out);
    assert(r.out.includes(`--allow-write=${dir}/sub (or --allow-write)`), r.out);
    const files = [...Deno.readDirSync(dir)];
    assertEquals(files, []);
    // Deno's own permission errors, mapped for the programs' last line.
    const g = await child(
      `import { asPermissionError } from ${src("src/util/atomic.ts")};
       try { await Deno.mkdir(${JSON.stringify(`${dir}/y`)}); }
       catch (e) { console.log(asPermissionError(e)?.message); }`,
      ["--allow-read"],
    );
    assert(g.out.includes(`Fix: run deno with --allow-write=${dir}/y (or --allow-write)`), g.out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a URL read without --allow-net is one line naming --allow-net and the host", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("{}"),
  );
  try {
    const host = `127.0.0.1:${server.addr.port}`;
    const r = await child(
      catching(
        `import { loadOnnxModel } from ${src("src/model/mod.ts")};`,
        `loadOnnxModel("http://${host}/m.json")`,
      ),
      ["--allow-read"],
    );
    assert(r.out.startsWith(`PermissionError: cannot read http://${host}/m.json`), r.out);
    assert(r.out.includes(`Fix: run deno with --allow-net=${host} (or --allow-net)`), r.out);
  } finally {
    await server.shutdown();
  }
});

Deno.test("onnxruntime without --allow-ffi is one line naming the flags", async () => {
  const r = await child(
    catching(
      `import { loadOnnxModel } from ${src("src/model/mod.ts")};`,
      `loadOnnxModel(${JSON.stringify(new URL("fixtures/models/tiny-par4.json", root).pathname)})`,
    ),
    ["--allow-read", "--allow-env"],
  );
  assert(r.out.startsWith("PermissionError: onnxruntime-node could not load"), r.out);
  assert(r.out.includes("--allow-ffi"), r.out);
});

/** Serve the repository's fixtures/ over HTTP on 127.0.0.1. */
function serveFixtures() {
  const fixtures = new URL("fixtures/", root);
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname).slice(1);
    if (path.includes("..")) return new Response("no", { status: 400 });
    try {
      return new Response(await Deno.readFile(new URL(path, fixtures)));
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}

/** The flags of a task's (first) deno run, as an array. */
function taskFlags(name: string): string[] {
  return tasks[name].split(/\s+/).filter((f) => f.startsWith("--allow-"));
}

Deno.test("deno task sample's permissions load a model by URL and write under out/", async () => {
  const server = serveFixtures();
  const out = `out/.permissions-test-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const model = `http://127.0.0.1:${server.addr.port}/models/tiny-par4.json`;
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-q",
        "--no-prompt",
        "--frozen",
        ...taskFlags("sample"),
        "main/sample.ts",
        "--model",
        model,
        "--count",
        "1",
        "--classes",
        "0",
        "--out",
        out,
      ],
      cwd: root.pathname,
      stdout: "piped",
      stderr: "piped",
      env: { PARLAB_QUIET: "1" },
    }).output();
    const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
    assertEquals(r.code, 0, text);
    assert((await Deno.stat(new URL(`${out}/tokens.npy`, root))).isFile, text);
  } finally {
    await server.shutdown();
    await Deno.remove(new URL(out, root), { recursive: true }).catch(() => {});
  }
});

Deno.test("deno task sample without --allow-write: one line naming --allow-write, exit 1", async () => {
  const flags = taskFlags("sample").filter((f) => !f.startsWith("--allow-write"));
  const out = `out/.permissions-test-${crypto.randomUUID().slice(0, 8)}`;
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      "--no-prompt",
      "--frozen",
      ...flags,
      "main/sample.ts",
      "--model",
      "fixtures/models/tiny-par4.json",
      "--count",
      "1",
      "--classes",
      "0",
      "--out",
      out,
    ],
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
    env: { PARLAB_QUIET: "1" },
  }).output();
  const stderr = new TextDecoder().decode(r.stderr).trim();
  assertEquals(r.code, 1, stderr);
  assertEquals(stderr.split("\n").length, 1, stderr);
  assert(stderr.startsWith("sample: ") && stderr.includes(`--allow-write=${out}`), stderr);
  assert(!(await Deno.stat(new URL(out, root)).then(() => true, () => false)), "wrote anyway");
});
