/**
 * Run a Deno script in a child process (as a user would from the shell) and collect its exit
 * code and output: for the CLI and import-by-URL tests.
 */
import { assert, assertEquals } from "./assert.ts";

/** Exit code and decoded output of a finished `deno run`. */
export interface DenoRunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `deno run -q -A <args>` in `cwd` (default: the test's working directory). Quiet, so Deno's own
 * "Download ..." lines (a fresh cache fetches npm metadata) do not mix with the script's stderr.
 */
export async function denoRun(args: string[], cwd?: string): Promise<DenoRunResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-A", ...args],
    ...(cwd ? { cwd } : {}),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * Run a CLI once per bad-flag case and check each failure: exit 1 and one stderr line that starts
 * with `<task>: `, names the flag and carries the usage line (`Usage: deno task <task>`).
 * `--out` points nowhere writable, so a run that got past its flags could not write.
 */
export async function expectFlagErrors(
  cli: string,
  task: string,
  cases: readonly (readonly [readonly string[], string])[],
): Promise<void> {
  for (const [args, flag] of cases) {
    const r = await denoRun([cli, ...args, "--out", "/nonexistent/never-written"]);
    assertEquals(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assertEquals(lines.length, 1, r.stderr);
    assert(lines[0].startsWith(`${task}: `) && lines[0].includes(flag), r.stderr);
    assert(lines[0].includes(`Usage: deno task ${task}`), r.stderr);
  }
}

/**
 * Serve this repository over HTTP on 127.0.0.1, then run a user script in a fresh Deno process
 * with no config that imports `entry` (a repository path, e.g. `mod.ts`) as `m` and runs `body`;
 * `body` prints a JSON line last, which is returned parsed. A failed run throws with its stderr.
 */
export async function importByUrl(entry: string, body: string): Promise<unknown> {
  const root = new URL("../", import.meta.url);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    if (path.includes("..")) return new Response("no", { status: 400 });
    try {
      const bytes = await Deno.readFile(new URL(`.${path}`, root));
      const type = path.endsWith(".ts") ? "application/typescript" : "application/octet-stream";
      return new Response(bytes, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const dir = await Deno.makeTempDir({ prefix: "url-import-" });
  try {
    const url = `http://127.0.0.1:${server.addr.port}/${entry}`;
    await Deno.writeTextFile(
      `${dir}/user.ts`,
      `const m = await import(${JSON.stringify(url)});\n${body}`,
    );
    // As a URL importer would: no deno.json, no lock, fresh 127.0.0.1 files.
    const out = await denoRun(
      ["--no-config", "--no-lock", "--reload=http://127.0.0.1", `${dir}/user.ts`],
      dir,
    );
    if (out.code !== 0) throw new Error(`import of ${entry} by URL failed:\n${out.stderr}`);
    return JSON.parse(out.stdout.trim().split("\n").at(-1)!);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}
