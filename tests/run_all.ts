/**
 * The test command (`deno task test`): every `tests/*_test.ts` in its own `deno test` process,
 * two (or DENO_JOBS) at a time, after one type check of them all. Prints each file's output as
 * one block when it finishes, then one summary line in `deno test`'s own format.
 *
 * Why not one `deno test --parallel`: that runs every file as an isolate of one process, and the
 * native addons (onnxruntime-node, sharp/libvips, Mesa's Vulkan for WebGPU) then share one heap
 * and one teardown across isolates. CI saw that process crash at exit after all tests passed, and
 * a fixture build in it once compute a different PSNR from identical tokens; both are memory
 * corruption that separate processes keep apart.
 *
 *   deno run -A tests/run_all.ts [file_test.ts ...]
 * @module
 */

const dir = new URL("./", import.meta.url);
const args = Deno.args.map((a) => a.replace(/^tests\//, ""));
const files = (args.length ? args : [...Deno.readDirSync(dir)].map((e) => e.name))
  .filter((name) => name.endsWith("_test.ts"))
  .sort();
const paths = files.map((f) => new URL(f, dir).pathname);
const jobs = Math.max(1, Number(Deno.env.get("DENO_JOBS")) || navigator.hardwareConcurrency || 2);
// deno test's summary line, with or without colour codes.
const SUMMARY = /^(ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/;
// deno-lint-ignore no-control-regex
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

const t0 = performance.now();
const check = await new Deno.Command(Deno.execPath(), { args: ["check", "--frozen", ...paths] })
  .output();
if (!check.success) {
  console.log(`FAILED | 0 passed | ${files.length} failed (type check)`);
  Deno.exit(1);
}

let passed = 0;
let failed = 0;
const problems: string[] = [];
const queue = [...paths];
async function worker(): Promise<void> {
  for (let path = queue.shift(); path; path = queue.shift()) {
    const name = path.split("/").at(-1)!;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--frozen", "--no-check", path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    console.log(text.trimEnd());
    const summary = text.split("\n").map(stripAnsi).map((l) => SUMMARY.exec(l)).findLast(Boolean);
    if (summary) {
      passed += Number(summary[2]);
      failed += Number(summary[3]);
      if (Number(summary[3]) > 0) problems.push(`${name}: ${summary[3]} failed`);
    }
    if (!summary || (out.code !== 0 && Number(summary[3]) === 0)) {
      // No summary, or a crash after an all-passing one: the file failed all the same.
      failed += 1;
      problems.push(`${name}: exited with code ${out.code}${summary ? " after its summary" : ""}`);
    }
  }
}
await Promise.all(Array.from({ length: Math.min(jobs, paths.length) }, worker));

const seconds = ((performance.now() - t0) / 1000).toFixed(0);
if (problems.length) console.log(`\nfailures:\n  ${problems.join("\n  ")}`);
console.log(
  `\n${
    failed ? "FAILED" : "ok"
  } | ${passed} passed | ${failed} failed (${files.length} files, ${seconds}s)`,
);
Deno.exit(failed ? 1 : 0);
