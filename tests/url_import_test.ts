/**
 * Users import mod.ts by URL, where deno.json's import map does not apply. Serve this
 * repository over HTTP on 127.0.0.1, import mod.ts from that URL in a fresh Deno process that has
 * no config (like a user's script elsewhere), and build a schedule through it.
 */
import { assertEquals } from "./assert.ts";

const root = new URL("../", import.meta.url);

Deno.test("mod.ts imports by URL and builds a schedule", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    if (path.includes("..")) return new Response("no", { status: 400 });
    try {
      const body = await Deno.readFile(new URL(`.${path}`, root));
      const type = path.endsWith(".ts") ? "application/typescript" : "application/octet-stream";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const dir = await Deno.makeTempDir();
  try {
    const url = `http://127.0.0.1:${server.addr.port}/mod.ts`;
    const script = `${dir}/user.ts`;
    await Deno.writeTextFile(
      script,
      `const parlab = await import(${JSON.stringify(url)});
       const s = parlab.par(parlab.makeGrid(24, 24), { m: 2 });
       console.log(JSON.stringify({ steps: s.steps.length, name: s.name }));`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-config", "--no-lock", "--reload=http://127.0.0.1", script],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, `import by URL failed:\n${stderr}`);
    const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
    assertEquals(result, { steps: 147, name: "par4" });
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
