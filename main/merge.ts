/**
 * `deno task merge --out DIR`: join the shards of a sharded `deno task sample --shard i/N` run
 * (`DIR/shard-<i>-of-<N>/`) into `DIR/tokens.npy`, `labels.npy` and `run.json`, exactly as the
 * unsharded run would have written them. Every shard must be there, finished, and of the same
 * run (model, schedule, seed, settings, image count); anything else is refused with the fix,
 * and nothing is written.
 * @module
 */
import {
  encodeNpy,
  loadNpyFile,
  parseFlags,
  runMain,
  UsageError,
  writeFileAtomic,
  z,
} from "./deps.ts";

const USAGE = "Usage: deno task merge --out DIR (the --out of the sharded sample runs)";

const Flags = z.object({
  out: z.string({ error: "is required (the --out the shards were sampled into)" }).min(1),
});

/** The parts of a shard's run.json that merge reads. */
interface ShardRun {
  format: string;
  run: Record<string, unknown> & { images: number };
  shard: { index: number; count: number; first: number; images: number } | null;
  seconds: number;
  backend: string;
}

const SHARD_DIR = /^shard-(\d+)-of-(\d+)$/;

async function readShard(path: string): Promise<ShardRun | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as ShardRun;
  } catch {
    return null;
  }
}

/** Check the shards of `dir` and join them; returns what was written. */
export async function mergeShards(dir: string): Promise<{ images: number; shards: number }> {
  const found = new Map<number, { name: string; count: number }>();
  const counts = new Set<number>();
  const info = await Deno.stat(dir).catch(() => null);
  if (!info?.isDirectory) {
    throw new UsageError(`--out: ${dir} is not a folder. Fix: pass the --out of the sharded runs`);
  }
  for await (const e of Deno.readDir(dir)) {
    const m = SHARD_DIR.exec(e.name);
    if (!e.isDirectory || !m) continue;
    counts.add(Number(m[2]));
    found.set(Number(m[1]), { name: e.name, count: Number(m[2]) });
  }
  if (counts.size === 0) {
    throw new UsageError(
      `--out: ${dir} holds no shard-<i>-of-<N> folders. Fix: pass the --out the sharded runs ` +
        "wrote to (deno task sample --shard i/N --out DIR)",
    );
  }
  if (counts.size > 1) {
    throw new UsageError(
      `--out: ${dir} mixes shards of runs split ${[...counts].join(" and ")} ways. Fix: keep ` +
        "one split per folder (move the others away)",
    );
  }
  const count = [...counts][0];
  const runs: ShardRun[] = [];
  for (let i = 0; i < count; i++) {
    const name = [...found.entries()].find(([k]) => k === i)?.[1].name;
    const run = name ? await readShard(`${dir}/${name}/run.json`) : null;
    if (!run || run.format !== "parlab-run/1" || !run.shard) {
      throw new UsageError(
        `shard ${i} of ${count} is missing or unfinished (no run.json in ${dir}/${
          name ?? `shard-${i}-of-${count}`
        }). Fix: run it (deno task sample ... --shard ${i}/${count}) or wait for it to finish`,
      );
    }
    runs.push(run);
  }
  const first = JSON.stringify(runs[0].run);
  runs.forEach((r, i) => {
    if (JSON.stringify(r.run) !== first) {
      const differ = Object.keys({ ...r.run, ...runs[0].run }).filter((k) =>
        JSON.stringify(r.run[k]) !== JSON.stringify(runs[0].run[k])
      );
      throw new UsageError(
        `shard ${i} was sampled with other settings than shard 0 (${differ.join(", ")} differ). ` +
          "Fix: resample it with the same flags, or keep the two runs in separate folders",
      );
    }
  });
  let next = 0;
  const tokens: Uint16Array[] = [];
  const labels: (Uint8Array | Uint16Array)[] = [];
  let shape: number[] = [];
  let labelDtype: "uint8" | "uint16" = "uint8";
  for (const [i, r] of runs.entries()) {
    if (r.shard!.first !== next) {
      throw new UsageError(
        `shard ${i} starts at image ${r.shard!.first}, expected ${next}. Fix: resample it`,
      );
    }
    const folder = `${dir}/${found.get(i)!.name}`;
    const t = await loadNpyFile(`${folder}/tokens.npy`);
    const l = await loadNpyFile(`${folder}/labels.npy`);
    if (t.dtype !== "uint16" || t.shape[0] !== r.shard!.images || l.shape[0] !== r.shard!.images) {
      throw new UsageError(
        `shard ${i}: tokens.npy or labels.npy does not hold its ${r.shard!.images} images. ` +
          "Fix: resample it",
      );
    }
    shape = t.shape.slice(1);
    labelDtype = l.dtype as "uint8" | "uint16";
    tokens.push(t.data as Uint16Array);
    labels.push(l.data as Uint8Array | Uint16Array);
    next += r.shard!.images;
  }
  if (next !== runs[0].run.images) {
    throw new UsageError(
      `the shards hold ${next} images, the run has ${runs[0].run.images}. Fix: resample them`,
    );
  }
  const cat = <T extends Uint8Array | Uint16Array>(parts: T[], make: (n: number) => T): T => {
    const out = make(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  await writeFileAtomic(
    `${dir}/tokens.npy`,
    encodeNpy(
      { dtype: "uint16", shape: [next, ...shape], data: cat(tokens, (n) => new Uint16Array(n)) },
      false,
    ),
  );
  const labelData = labelDtype === "uint8"
    ? cat(labels as Uint8Array[], (n) => new Uint8Array(n))
    : cat(labels as Uint16Array[], (n) => new Uint16Array(n));
  await writeFileAtomic(
    `${dir}/labels.npy`,
    encodeNpy({ dtype: labelDtype, shape: [next], data: labelData } as never, false),
  );
  const merged = {
    format: "parlab-run/1",
    run: runs[0].run,
    shard: null,
    merged: runs.map((r) => ({
      ...r.shard,
      seconds: r.seconds,
      backend: r.backend,
    })),
    images: next,
    seconds: runs.reduce((a, r) => a + r.seconds, 0),
  };
  await writeFileAtomic(`${dir}/run.json`, JSON.stringify(merged, null, 1));
  return { images: next, shards: count };
}

if (import.meta.main) {
  await runMain("merge", async () => {
    const f = parseFlags(Deno.args, Flags, [], USAGE);
    const r = await mergeShards(f.out);
    console.log(
      `merged ${r.shards} shards: ${r.images} images into ${f.out}/tokens.npy, labels.npy, run.json`,
    );
  });
}
