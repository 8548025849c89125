/**
 * Splitting a run into shards for a cluster: shard i of N takes a contiguous range of the run's
 * items, the same range whatever machine runs it, and the index can come from the command line
 * or from the engine's environment (a Slurm array task, a Kubernetes Indexed Job).
 * @module
 */
import { UsageError } from "./errors.ts";

/** Shard `index` of `count` (0-based). */
export interface Shard {
  /** 0-based index. */
  index: number;
  /** Number of shards. */
  count: number;
}

/** The items [start, end) of shard `shard` of a run of `total` items (balanced, contiguous). */
export function shardRange(total: number, shard: Shard): { start: number; end: number } {
  return {
    start: Math.floor((shard.index * total) / shard.count),
    end: Math.floor(((shard.index + 1) * total) / shard.count),
  };
}

/**
 * Read `--shard`: `i/N`, or `auto/N` for the index from the cluster engine: Slurm's
 * `SLURM_ARRAY_TASK_ID` (less `SLURM_ARRAY_TASK_MIN`) or Kubernetes' `JOB_COMPLETION_INDEX`.
 * @param env environment lookup (default `Deno.env.get`)
 * @example
 * resolveShard("2/8"); // { index: 2, count: 8 }
 */
export function resolveShard(
  spec: string,
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
  flag = "--shard",
): Shard {
  const m = /^(\d+|auto)\/(\d+)$/.exec(spec.trim());
  if (!m) {
    throw new UsageError(
      `${flag}: "${spec}" is not i/N. Fix: e.g. ${flag} 0/4, or ${flag} auto/4 inside a Slurm ` +
        "array or a Kubernetes Indexed Job",
    );
  }
  const count = Number(m[2]);
  let index: number;
  if (m[1] === "auto") {
    const slurm = env("SLURM_ARRAY_TASK_ID");
    const k8s = env("JOB_COMPLETION_INDEX");
    if (slurm !== undefined) index = Number(slurm) - Number(env("SLURM_ARRAY_TASK_MIN") ?? 0);
    else if (k8s !== undefined) index = Number(k8s);
    else {
      throw new UsageError(
        `${flag}: auto needs SLURM_ARRAY_TASK_ID (sbatch --array) or JOB_COMPLETION_INDEX ` +
          `(an Indexed Job), and neither is set. Fix: pass the index, e.g. ${flag} 0/${count}`,
      );
    }
  } else {
    index = Number(m[1]);
  }
  if (!(count >= 1) || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new UsageError(
      `${flag}: shard ${index} of ${count} is out of range. Fix: an index in 0..${count - 1}` +
        (m[1] === "auto" ? " (check the array's range: --array=0-" + (count - 1) + ")" : ""),
    );
  }
  return { index, count };
}

/** The folder name of a shard's output inside the run's folder: `shard-0002-of-0008`. */
export function shardFolder(shard: Shard): string {
  const w = Math.max(4, String(shard.count).length);
  return `shard-${String(shard.index).padStart(w, "0")}-of-${String(shard.count).padStart(w, "0")}`;
}
